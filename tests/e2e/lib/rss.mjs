// Memory of the running app, as the owner's system monitor would count it: VmRSS of the
// app's own process (from /proc/PID/status) and of the WebKit helper processes it spawned
// (WebKitWebProcess renders the UI, WebKitNetworkProcess serves it), alone and in total.
// Shared pages are counted once per process, so the total is an upper bound.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { descendants } from './procs.mjs';

/** VmRSS of a PID in KiB, or null if it is gone. */
export function vmRssKiB(pid) {
  try {
    return parseVmRss(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return null;
  }
}

/** The VmRSS line of a /proc/PID/status text, in KiB (null when absent: a kernel thread). */
export function parseVmRss(status) {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) : null;
}

/**
 * RSS of the app and its WebKit helpers: { app, helpers: [{pid, name, kib}], total } in
 * KiB. Helpers are the app's descendants whose executable is a WebKit*Process.
 */
export function appMemory(appPid) {
  const app = vmRssKiB(appPid);
  if (app === null) throw new Error(`app pid ${appPid} is gone; no RSS to read`);
  const helpers = descendants(appPid)
    .map((p) => ({ pid: p.pid, name: p.exe ? basename(p.exe) : p.comm }))
    .filter((p) => /^WebKit\w*Process$/.test(p.name))
    .map((p) => ({ ...p, kib: vmRssKiB(p.pid) ?? 0 }));
  const total = app + helpers.reduce((a, h) => a + h.kib, 0);
  return { app, helpers, total };
}

/** "app 123.4 MiB; + WebKitWebProcess 80.1 MiB, … = total 250.0 MiB". */
export function formatMemory(m) {
  const mib = (k) => `${(k / 1024).toFixed(1)} MiB`;
  const parts = m.helpers.map((h) => `${h.name} ${mib(h.kib)}`);
  return `app ${mib(m.app)}${parts.length ? `; + ${parts.join(', ')}` : ''} = total ${mib(m.total)}`;
}
