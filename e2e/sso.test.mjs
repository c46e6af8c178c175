// Browser end-to-end test of single sign-on in the API docs: the server
// runs with AUTH_TYPE=jwt and a docs client (OIDC_DOCS_CLIENT_ID) of a real
// OpenID Connect provider on loopback (mockoidc, e2e/mockissuer). A person
// opens /docs, clicks Authorize, logs in through the provider's
// authorization endpoint with PKCE (the popup lands back on
// /docs/oauth2-redirect.html), and creates an analyst and an asset with
// "Try it out"; the rows' created_by is the token's subject.
//
// Run with `node --test sso.test.mjs` (e2e/run.sh does the setup: headless
// Chromium, sqlite3, npm ci, the binaries). Environment (all optional):
//   ICY_MORNING_BIN  the binary (default: ../bin/icy-morning from this file)
//   MOCKISSUER_BIN   the provider (default: ../bin/mockissuer)
//   CHROMIUM_PATH    the browser (default: /usr/bin/chromium)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import {
  ARTIFACTS, STARTUP_TIMEOUT_MS, TEST_TIMEOUT_MS, here,
  http, newPage, reportFailure, setUp, spawnChild, startBrowser, startServer, tearDown, waitFor, watchPage,
} from './harness.mjs';

const ISSUER_BIN = process.env.MOCKISSUER_BIN || resolve(here, '..', 'bin', 'mockissuer');
const SCREENSHOT = join(ARTIFACTS, 'sso.png');
const FAILURE_SCREENSHOT = join(ARTIFACTS, 'sso-failure.png');
const WRITE_SCOPE = 'icy-morning/write';

// startIssuer runs the provider and reads the JSON line it prints.
async function startIssuer() {
  const child = spawnChild('mockissuer', ISSUER_BIN, ['-scope', WRITE_SCOPE]);
  child.info = await waitFor('provider listening', STARTUP_TIMEOUT_MS, () => {
    try {
      return JSON.parse(child.log.split('\n')[0]);
    } catch {
      return null;
    }
  }, child.failed);
  return child;
}

// tryOut runs one operation of the docs page with body and returns the
// request the page sent and the server's response.
async function tryOut(page, opId, path, body) {
  const op = page.locator(`#operations-${opId}`);
  await op.locator('.opblock-summary-control').click();
  const button = op.locator('.try-out__btn');
  await button.waitFor({ state: 'visible' });
  if ((await button.innerText()).trim() === 'Try it out') await button.click();
  assert.equal(await op.locator('.authorization__btn').getAttribute('aria-label'), 'authorization button locked',
    `${opId}: the operation's lock shows the login applies`);
  const text = op.locator('textarea.body-param__text');
  await text.waitFor({ state: 'visible' });
  await text.fill(JSON.stringify(body, null, 2));
  const sent = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === path);
  const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === path);
  await op.locator('button.execute').click();
  return { req: await sent, res: await answered, op };
}

function claimsOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

test('API docs: log in through the provider with PKCE, create an analyst and an asset, created_by is the token subject', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const tmp = setUp('icy-morning-sso-', FAILURE_SCREENSHOT);
  let issuer, server, browser, page;
  const problems = [];
  try {
    issuer = await startIssuer();
    const { issuer: issuerURL, subject } = issuer.info;
    t.diagnostic(`provider ${issuerURL} (pid ${issuer.proc.pid})`);
    const dbPath = join(tmp, 'sso.db');
    server = await startServer(dbPath, {
      AUTH_TYPE: 'jwt', OIDC_ISSUER_URL: issuerURL, OIDC_AUDIENCE: issuer.info.client_id,
      OIDC_DOCS_CLIENT_ID: issuer.info.client_id, OIDC_WRITE_SCOPE: WRITE_SCOPE,
    });
    const base = server.base;
    t.diagnostic(`server ${base} (pid ${server.proc.pid})`);

    // The document describes the login; writes refuse a missing token.
    const doc = await (await http(`${base}/openapi.json`)).json();
    const flow = doc.components.securitySchemes.oidcLogin?.flows?.authorizationCode;
    assert.equal(flow?.authorizationUrl, `${issuerURL}/authorize`, 'the OAuth 2.0 scheme names the provider\'s endpoints');
    const anonymous = await http(`${base}/api/v1/analysts`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"name":"x","company":"y"}' });
    assert.equal(anonymous.status, 401, 'a write without a token');

    browser = await startBrowser(join(tmp, 'chromium-profile'));
    page = await newPage(browser, { width: 1280, height: 1000 });
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
    watchPage(page, problems);
    // Every request of the context, the login popup's included.
    const traffic = [];
    page.context().on('request', (r) => traffic.push(r));

    // 1. Open the docs and the Authorize dialog.
    assert.equal((await page.goto(`${base}/docs`, { waitUntil: 'load' }))?.status(), 200, 'GET /docs');
    const authorize = page.locator('.auth-wrapper .btn.authorize');
    await authorize.waitFor({ state: 'visible' });
    await authorize.click();
    const modal = page.locator('.dialog-ux .modal-ux');
    await modal.waitFor({ state: 'visible' });
    const login = modal.locator('.auth-container', { hasText: 'oidcLogin' });
    await login.waitFor({ state: 'visible' });
    assert.equal(await login.locator('#client_id_authorizationCode').inputValue(), issuer.info.client_id, 'the dialog is filled with the docs client');

    // 2. Log in: the popup goes to the provider and lands back on the
    // docs' redirect page, which hands the code to this window.
    const popup = page.waitForEvent('popup');
    await login.locator('button.authorize').click();
    const landed = await popup;
    await landed.waitForEvent('close');
    await login.getByText('Authorized', { exact: true }).waitFor();
    await modal.locator('.close-modal').click();
    await modal.waitFor({ state: 'detached' });

    const authz = traffic.find((r) => r.url().startsWith(`${issuerURL}/authorize`));
    assert.ok(authz, 'the browser went to the provider\'s authorization endpoint');
    const q = new URL(authz.url()).searchParams;
    assert.equal(q.get('code_challenge_method'), 'S256', 'PKCE with S256');
    assert.ok((q.get('code_challenge') || '').length >= 43, 'a PKCE code challenge');
    assert.deepEqual(q.get('scope').split(' ').sort(), ['openid', WRITE_SCOPE].sort(), 'the scopes asked for');
    assert.equal(q.get('redirect_uri'), `${base}/docs/oauth2-redirect.html`, 'lands back on the docs');
    const tokenReq = traffic.find((r) => r.method() === 'POST' && r.url() === `${issuerURL}/token`);
    assert.ok(tokenReq, 'the page exchanged the code at the token endpoint');
    const form = new URLSearchParams(tokenReq.postData() || '');
    assert.ok(form.get('code_verifier'), 'the exchange proves the code with the PKCE verifier');
    assert.ok(!form.get('client_secret'), 'a public client: no secret in the page');

    // 3. Create an analyst and an asset with "Try it out".
    const analyst = await tryOut(page, 'analysts-create-analyst', '/api/v1/analysts', { name: 'Ada', company: 'Acme' });
    assert.equal(analyst.res.status(), 201, `POST /api/v1/analysts: ${await analyst.res.text()}`);
    const bearer = analyst.req.headers()['authorization'] || '';
    assert.match(bearer, /^Bearer /, 'the request carries the bearer token');
    const claims = claimsOf(bearer.slice('Bearer '.length));
    assert.equal(claims.sub, subject, 'the token is the logged-in user\'s');
    assert.equal(claims.iss, issuerURL);
    const analystId = (await analyst.res.json()).id;
    const asset = await tryOut(page, 'assets-create-asset', '/api/v1/assets', { name: 'Logged in', is_active: true, analyst_id: analystId });
    assert.equal(asset.res.status(), 201, `POST /api/v1/assets: ${await asset.res.text()}`);
    const assetId = (await asset.res.json()).id;
    await asset.op.locator('.live-responses-table').waitFor({ state: 'visible' });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    t.diagnostic(`screenshot ${SCREENSHOT}`);

    // 4. The rows record who made them: the token's subject.
    const sql = (q) => execFileSync('sqlite3', ['-readonly', dbPath, q], { encoding: 'utf8' }).trim();
    assert.equal(sql(`SELECT created_by FROM analysts WHERE id = ${Number(analystId)}`), subject, 'analysts.created_by');
    assert.equal(sql(`SELECT created_by || ' ' || updated_by FROM assets WHERE id = ${Number(assetId)}`), `${subject} ${subject}`, 'assets.created_by and updated_by');

    assert.deepEqual(problems, [], 'no console errors, page errors or failed requests on the docs page');
  } catch (err) {
    await reportFailure({ page, screenshot: FAILURE_SCREENSHOT, problems, processes: [server, issuer] });
    throw err;
  } finally {
    await tearDown(browser);
  }
});
