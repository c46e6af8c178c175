// What the browser tests (docs.test.mjs, subscribe.test.mjs) share: the
// time budget, starting the processes a test needs (the icy-morning
// binary, headless Chromium) and stopping them again by PID, waiting,
// plain HTTP, and the report and clean-up when a test ends.
//
// Each test file runs in a process of its own (node --test), so the state
// here (the processes started, the temporary folder, the watchdog) is that
// one file's.
//
// Environment (all optional):
//   ICY_MORNING_BIN  the binary (default: ../bin/icy-morning from this file)
//   CHROMIUM_PATH    the browser (default: /usr/bin/chromium)

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const here = dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.ICY_MORNING_BIN || resolve(here, '..', 'bin', 'icy-morning');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const ARTIFACTS = join(here, 'artifacts');

// Time budget. A whole test file must end in < 60 s: its test times out
// at TEST_TIMEOUT_MS, every single wait has its own shorter limit, and a
// last-resort watchdog kills the children and exits at WATCHDOG_MS.
export const TEST_TIMEOUT_MS = 50_000;
const WATCHDOG_MS = 57_000;
export const STEP_TIMEOUT_MS = 10_000; // any one browser action or wait
export const STARTUP_TIMEOUT_MS = 15_000; // a process listening and healthy; browser up
const HTTP_TIMEOUT_MS = 5_000; // one plain HTTP request from the test
const STOP_GRACE_MS = 5_000; // SIGTERM, then SIGKILL

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

// setUp makes the run's temporary folder (removed by tearDown, or by the
// watchdog) and the artifacts folder, removes the failure screenshot of
// an earlier run, and returns the temporary folder.
export function setUp(prefix, failureScreenshot) {
  tmp = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(ARTIFACTS, { recursive: true });
  rmSync(failureScreenshot, { force: true });
  return tmp;
}

function hardKill({ proc, group }) {
  try {
    process.kill(group ? -proc.pid : proc.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export function exited(proc) {
  return proc.exitCode !== null || proc.signalCode !== null;
}

// stop ends a child by its PID (its process group for the browser, whose
// renderers and helpers share the group): SIGTERM, then SIGKILL after
// STOP_GRACE_MS.
export async function stop(child) {
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
export async function waitFor(what, ms, check, failed = () => null) {
  const end = Date.now() + ms;
  for (;;) {
    const why = failed();
    if (why) throw new Error(`${what}: ${why}`);
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function http(url, init = {}) {
  return fetch(url, { ...init, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
}

export async function answers200(url) {
  try {
    return (await http(url)).status === 200;
  } catch {
    return false;
  }
}

// spawnChild starts bin with args and env (on top of this process's) and
// keeps what it writes in child.log (and child.spawnError if it cannot be
// started); stop() ends it, and tearDown() if the
// test does not. With group it gets a process group of its own (detached),
// so that stop() ends its helpers too, and only its stderr is kept.
// child.failed() says why it can no longer become ready (it could not be
// started, or it exited), or returns null.
export function spawnChild(name, bin, args, { env = {}, group = false } = {}) {
  const proc = spawn(bin, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', group ? 'ignore' : 'pipe', 'pipe'],
    detached: group,
  });
  const child = { name, proc, group, log: '', spawnError: null };
  children.add(child);
  proc.on('error', (e) => (child.spawnError = e));
  const onData = (d) => (child.log += d);
  proc.stdout?.setEncoding('utf8').on('data', onData);
  proc.stderr.setEncoding('utf8').on('data', onData);
  child.failed = () =>
    child.spawnError ? `cannot start ${bin}: ${child.spawnError.message}` :
    exited(proc) ? `${name} exited (${proc.exitCode ?? proc.signalCode}); output:\n${child.log}` : null;
  return child;
}

// startServer runs the icy-morning binary on 127.0.0.1:0 (the kernel picks
// a free port, so no race with other processes) with a SQLite file at
// dbPath and env, reads the bound address from its "listening" log line,
// then waits for GET /healthz to answer 200. child.base is its URL.
export async function startServer(dbPath, env) {
  const child = spawnChild('icy-morning', BIN, ['serve', '--addr', '127.0.0.1:0', '--database-url', `sqlite:///${dbPath}`], { env });
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
  }, child.failed);
  child.base = `http://${addr}`;
  await waitFor('GET /healthz 200', STARTUP_TIMEOUT_MS, () => answers200(`${child.base}/healthz`), child.failed);
  return child;
}

// startBrowser launches headless Chromium itself (so that the flags, the
// profile and the PID are ours) with DevTools on a kernel-picked loopback
// port, and connects Playwright to it over CDP.
export async function startBrowser(profileDir) {
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
    // (sign-in, autofill, optimization guide, updates). The tests need no
    // name resolution at all (they use 127.0.0.1), so answer every lookup
    // "not found" inside the browser: no DNS query leaves it.
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    `--user-data-dir=${profileDir}`,
    '--remote-debugging-port=0',
    'about:blank',
  ];
  const child = spawnChild('chromium', CHROMIUM, args, { group: true });
  const ws = await waitFor('Chromium DevTools endpoint', STARTUP_TIMEOUT_MS,
    () => child.log.match(/DevTools listening on (ws:\/\/\S+)/)?.[1], child.failed);
  child.browser = await chromium.connectOverCDP(ws, { timeout: STARTUP_TIMEOUT_MS });
  return child;
}

// newPage opens a page in a new browser context of the given viewport,
// where any one action or navigation times out after STEP_TIMEOUT_MS.
export async function newPage(browser, viewport) {
  const context = await browser.browser.newContext({ viewport });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  return context.newPage();
}

// watchPage adds to problems what goes wrong on page besides console
// errors (each test words those itself): page errors, failed requests and
// answers of 400 or more.
export function watchPage(page, problems) {
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
}

// reportFailure, for a failed test: a screenshot of page (if there is one
// yet), the browser's problems, and the last lines of the output of each
// process.
export async function reportFailure({ page, screenshot, problems, processes }) {
  if (page) {
    await page.screenshot({ path: screenshot, fullPage: true, timeout: 3_000 }).catch(() => {});
    console.error(`failure screenshot: ${screenshot} (page ${page.url()})`);
  }
  if (problems.length) console.error('browser problems:\n  ' + problems.join('\n  '));
  for (const c of processes) {
    if (c?.log) console.error(`${c.name} log (tail):\n` + c.log.split('\n').slice(-30).join('\n'));
  }
}

// tearDown closes the browser's connection, stops every process started,
// newest (the browser) first, including one whose start-up failed before
// its start function returned it, and removes the temporary folder.
export async function tearDown(browser) {
  if (browser?.browser) {
    await Promise.race([browser.browser.close().catch(() => {}), sleep(2_000)]);
  }
  for (const child of [...children].reverse()) await stop(child);
  // maxRetries: a killed browser helper may still be letting go of files.
  if (tmp) rmSync(tmp, { recursive: true, force: true, maxRetries: 5 });
}
