// Unit tests of the harness's own helpers (node --test): amounts as shown, /proc parsing,
// process trees. The E2E suite's verdicts rest on them, so they must be right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { parseAmount, compareDecimal } from './amount.mjs';
import { parseVmRss, vmRssKiB } from './rss.mjs';
import { descendants, alive, stopPid, freePort, sleep } from './procs.mjs';

test('amounts as the UI shows them', () => {
  assert.equal(parseAmount('1,234.5678\u00a0IWT'), '1234.5678');
  assert.equal(parseAmount('0.0312 IWT'), '0.0312');
  assert.equal(parseAmount('Earned: 12'), '12');
  assert.throws(() => parseAmount('–'), /no amount/);
});

test('decimal comparison is exact', () => {
  assert.equal(compareDecimal('0.0001', '0'), 1);
  assert.equal(compareDecimal('0.10', '0.1'), 0);
  assert.equal(compareDecimal('1.9999', '2'), -1);
  assert.equal(compareDecimal('10', '9.9999'), 1);
});

test('VmRSS from /proc status', () => {
  assert.equal(parseVmRss('Name:\tx\nVmRSS:\t  123456 kB\nThreads: 1\n'), 123456);
  assert.equal(parseVmRss('Name:\tkthreadd\n'), null);
  assert.ok(vmRssKiB(process.pid) > 1000);
  assert.equal(vmRssKiB(2 ** 22 + 1), null);
});

test('descendants find grandchildren, and stopPid ends them by pid', async () => {
  const child = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore' });
  let kids = [];
  for (let i = 0; i < 50 && kids.length === 0; i++) {
    await sleep(50);
    kids = descendants(child.pid).filter((p) => p.comm === 'sleep');
  }
  assert.equal(kids.length, 1, 'the grandchild sleep is found');
  const mine = descendants(process.pid).map((p) => p.pid);
  assert.ok(mine.includes(kids[0].pid), 'it is a descendant of this process too');
  await stopPid(kids[0].pid);
  await stopPid(child.pid);
  assert.equal(alive(kids[0].pid), false);
  assert.equal(alive(child.pid), false);
});

test('free ports differ from a listening one', async () => {
  const p = await freePort();
  assert.ok(p > 0 && p < 65536);
});
