// The TypeScript client, proven against the running server: types that
// openapi-typescript generated from the document (generated/schema.d.ts),
// checked by tsc, and openapi-fetch calling the icy-morning binary:
// create, read, list with paging, merge patch, delete, and a 401 and a 422
// decoded as RFC 9457 problems.
//
// `make client-ts` generates, compiles and runs it. The test starts the
// binary itself on 127.0.0.1 (a port the kernel picks) with a fresh SQLite
// file, and stops it by its PID.
//
// Environment: ICY_MORNING_BIN, the binary (default ../bin/icy-morning).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import createClient from 'openapi-fetch';
import type { components, paths } from './generated/schema.js';

type Problem = components['schemas']['ErrorModel'];

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.ICY_MORNING_BIN ?? resolve(here, '..', '..', 'bin', 'icy-morning');
const USER = 'ts-client';
const PASS = 'ts-client-password';
const AUTH = 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64');

// startServer runs the binary and resolves with its base URL once
// /healthz answers.
async function startServer(dir: string): Promise<{ base: string; proc: ChildProcess }> {
  const proc = spawn(BIN, ['serve', '--addr', '127.0.0.1:0', '--database-url', `sqlite:///${join(dir, 'client.db')}`], {
    env: { ...process.env, BASIC_AUTH_USERNAME: USER, BASIC_AUTH_PASSWORD: PASS, LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => (log += d));
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (log += d));
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`icy-morning exited (${proc.exitCode}):\n${log}`);
    for (const line of log.split('\n')) {
      try {
        const rec = JSON.parse(line) as { msg?: string; addr?: string };
        if (rec.msg === 'listening' && rec.addr) {
          const base = `http://${rec.addr}`;
          const res = await fetch(`${base}/healthz`).catch(() => null);
          if (res?.status === 200) return { base, proc };
        }
      } catch {
        // not a JSON log line
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`icy-morning did not start within 15 s:\n${log}`);
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(t);
}

// nextCursor is the cursor of the Link header's next page, or null on the
// last page.
function nextCursor(link: string | null): string | null {
  if (!link) return null;
  const m = /^<([^>]+)>; rel="next"$/.exec(link);
  assert.ok(m?.[1], `Link ${link} is not a next link`);
  return new URL(m[1], 'http://x/api/v1/').searchParams.get('cursor');
}

function assertProblem(error: Problem | undefined, status: number): Problem {
  assert.ok(error, `a ${status} problem`);
  assert.equal(error.status, status);
  assert.equal(error.type, 'about:blank');
  assert.ok(error.title && error.detail, `problem has a title and a detail: ${JSON.stringify(error)}`);
  return error;
}

test('the generated TypeScript client against the running server', { timeout: 50_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'icy-morning-ts-client-'));
  const { base, proc } = await startServer(dir);
  try {
    const client = createClient<paths>({ baseUrl: base, headers: { Authorization: AUTH } });
    const anonymous = createClient<paths>({ baseUrl: base });

    const analyst = await client.POST('/api/v1/analysts', { body: { name: 'Ada Lovelace', company: 'Analytical Engines Ltd' } });
    assert.equal(analyst.response.status, 201, JSON.stringify(analyst.error));
    assert.ok(analyst.data);
    const analystId: number = analyst.data.id;

    // Create three assets and read one back.
    const ids: number[] = [];
    for (const name of ['First', 'Second', 'Third']) {
      const { data, response } = await client.POST('/api/v1/assets', {
        body: { name, description: 'Large-cap equities', inception_date: '2024-01-31', is_active: true, analyst_id: analystId },
      });
      assert.equal(response.status, 201);
      assert.ok(data);
      assert.equal(data.name, name);
      assert.equal(data.inception_date, '2024-01-31');
      ids.push(data.id);
    }
    const got = await anonymous.GET('/api/v1/assets/{id}', { params: { path: { id: ids[1]! } } });
    assert.equal(got.response.status, 200);
    assert.equal(got.data?.name, 'Second');
    assert.equal(got.data?.description, 'Large-cap equities');

    // List two at a time, following the Link header.
    const listed: number[] = [];
    let cursor: string | null = null;
    for (let pages = 0; ; pages++) {
      assert.ok(pages <= 3, 'paging ends');
      const query: { limit: number; analyst_id: number; cursor?: string } = { limit: 2, analyst_id: analystId };
      if (cursor) query.cursor = cursor;
      const page = await anonymous.GET('/api/v1/assets', { params: { query } });
      assert.equal(page.response.status, 200);
      for (const a of page.data ?? []) listed.push(a.id);
      cursor = nextCursor(page.response.headers.get('Link'));
      if (!cursor) break;
    }
    assert.deepEqual(listed, ids);

    // A JSON Merge Patch changes only what it names; null removes the description.
    const patched = await client.PATCH('/api/v1/assets/{id}', {
      params: { path: { id: ids[0]! } },
      body: { is_active: false, description: null },
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    assert.equal(patched.response.status, 200, JSON.stringify(patched.error));
    assert.equal(patched.data?.is_active, false);
    assert.equal(patched.data?.description, null);
    assert.equal(patched.data?.name, 'First');

    const deleted = await client.DELETE('/api/v1/assets/{id}', { params: { path: { id: ids[2]! } } });
    assert.equal(deleted.response.status, 200);
    assert.equal(deleted.data?.id, ids[2]);
    const gone = await anonymous.GET('/api/v1/assets/{id}', { params: { path: { id: ids[2]! } } });
    assert.equal(gone.response.status, 404);
    assertProblem(gone.error, 404);

    // Refusals are problems: 401 without credentials, 422 naming the member.
    const refused = await anonymous.POST('/api/v1/assets', { body: { name: 'X', is_active: true, analyst_id: analystId } });
    assert.equal(refused.response.status, 401);
    assert.equal(refused.response.headers.get('Content-Type'), 'application/problem+json');
    assertProblem(refused.error, 401);
    assert.ok(refused.response.headers.get('WWW-Authenticate'), '401 names the schemes');

    const invalid = await client.POST('/api/v1/assets', { body: { name: '', is_active: true, analyst_id: analystId } });
    assert.equal(invalid.response.status, 422);
    const p = assertProblem(invalid.error, 422);
    assert.equal(p.errors?.[0]?.location, 'body.name', JSON.stringify(p));
  } finally {
    await stop(proc);
    rmSync(dir, { recursive: true, force: true });
  }
});
