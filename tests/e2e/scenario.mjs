// The owner's scenario, played in the real app window (issue #7, "Tests"): onboarding with
// a new wallet in the real keyring, the dashboard and the lavapipe adapter, the node
// computing and earnings rising on the embedded network, each job labelled with who paid
// for it (the demo client, calibration), "paid work waiting" and the price list, Pause/Resume from the tray menu
// with the dashboard following, a devnet withdrawal confirmed, a bad setting rejected,
// closing to the tray (memory with the window open and closed), a SIGKILL and restart that
// keeps settings, history and the wallet, and Quit from the tray. Element ids are the
// `data-testid`s of docs/app-ipc.md.

import { step, log } from './lib/log.mjs';
import { appMemory, formatMemory } from './lib/rss.mjs';
import { sleep, run, waitFor } from './lib/procs.mjs';
import { tid } from './lib/webdriver.mjs';
import { Tray } from './lib/tray.mjs';
import { parseAmount, compareDecimal } from './lib/amount.mjs';
import { join, dirname } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Test hooks the shell reads (docs/app-ipc.md, "Test hooks"). */
const appEnv = {
  IDLEWATT_ALLOW_SOFTWARE: '1',
  // The owner counts as away after this many seconds without input (instead of minutes).
  IDLEWATT_IDLE_AFTER_S: '5',
};

/**
 * The tray menu's selectable items, top to bottom (src-tauri/src/tray.rs): the status line
 * above them is insensitive and the separators are skipped by the keyboard.
 */
const TRAY_MENU = { toggle: 0, pauseHour: 1, open: 2, quit: 3 };

/** A devnet address to withdraw to (anvil's well-known account #1; EIP-55 checksummed). */
const WITHDRAW_TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

const MINUTE = 60_000;

/**
 * States in which the node computes: "throttled" is computing at a reduced duty cycle (on
 * lavapipe the software adapter's power estimate meets the governor's power limit).
 */
const COMPUTING = ['computing', 'throttled'];

export async function smoke(h) {
  await step('launch the app window', () => h.launch());
  await step('screenshot the window and the screen', async () => {
    await sleep(2000);
    log(`title ${JSON.stringify(await h.session.title())}, url ${await h.session.url()}`);
    await h.shot('smoke-window', { docs: false });
    await h.shotScreen('smoke-screen', { docs: false });
  });
  await step('memory', async () => h.notes.push(`RSS: ${formatMemory(appMemory(h.appPid))}`));
}

async function run_(h) {
  const soft = { critical: false, onSoftFailure: (n) => h.captureFailure(`-step${n}`) };
  const tray = new Tray(h.display, { menuItems: TRAY_MENU, classNames: ['tray-icon tray app idlewatt'] });
  // Issue 16: first launch -> onboarding -> earning, as an owner meets it (printed below).
  const launchedAt = Date.now();
  let s = await step('launch the app: onboarding opens', async () => {
    const s = await h.launch();
    await s.byTestId('onboarding-next', { timeoutMs: 60000 });
    await h.shot('01-onboarding-welcome');
    return s;
  });

  await step('onboarding: hardware check and benchmark', async () => {
    await (await s.byTestId('onboarding-next')).click();
    const start = await s.byTestId('bench-start', { timeoutMs: 30000 });
    await h.shot('02-onboarding-hardware');
    await start.click();
    const result = await s.byTestId('bench-result', { timeoutMs: 5 * MINUTE });
    const text = await result.text();
    log(`benchmark: ${JSON.stringify(text)}`);
    if (!/\d/.test(text)) throw new Error(`bench-result shows no figure: ${JSON.stringify(text)}`);
    await h.shot('03-onboarding-benchmark');
  });

  await step('onboarding: create a wallet and confirm the backup', async () => {
    await (await s.byTestId('onboarding-next')).click();
    await (await s.byTestId('wallet-create', { timeoutMs: 20000 })).click();
    await s.byTestId('phrase-word-1', { timeoutMs: 30000 });
    const words = [];
    for (let n = 1; n <= 24; n++) {
      const el = await s.find(tid(`phrase-word-${n}`));
      if (!el) break;
      words.push((await el.text()).trim());
    }
    if (words.length !== 12 && words.length !== 24) throw new Error(`the phrase has ${words.length} words`);
    if (!words.every((w) => /^[a-z]+$/.test(w))) throw new Error('a phrase word is not a lowercase BIP-39 word');
    log(`phrase of ${words.length} words shown`);
    // The phrase of this throw-away wallet stays out of docs/screenshots.
    await h.shot('04-onboarding-phrase', { docs: false });
    await (await s.byTestId('onboarding-next')).click();
    const positions = [];
    for (let k = 0; k < 3; k++) {
      const input = await s.byTestId(`backup-word-input-${k}`, { timeoutMs: 10000 });
      positions.push(await wordPosition(s, input, k));
    }
    log(`backup challenge asks for words ${positions.join(', ')}`);
    // A wrong word first: it must be refused and nothing confirmed.
    for (let k = 0; k < 3; k++) {
      const wrong = k === 0 ? wrongWord(words[positions[0] - 1]) : words[positions[k] - 1];
      await (await s.byTestId(`backup-word-input-${k}`)).fill(wrong);
    }
    await (await s.byTestId('backup-confirm')).click();
    await s.waitFor('[role="alert"]', { timeoutMs: 10000 });
    if (await s.find(tid('limits-idle-after'))) throw new Error('a wrong backup word was accepted');
    await h.shot('05-onboarding-backup-wrong-word');
    await (await s.byTestId('backup-word-input-0')).fill(words[positions[0] - 1]);
    await h.shot('05-onboarding-backup', { docs: false });
    await (await s.byTestId('backup-confirm')).click();
  });

  await step('onboarding: limits, then finish', async () => {
    await s.byTestId('limits-idle-after', { timeoutMs: 20000 });
    await h.shot('06-onboarding-limits');
    await (await s.byTestId('onboarding-next')).click();
    const finish = await s.byTestId('onboarding-finish', { timeoutMs: 20000 });
    await h.shot('07-onboarding-done');
    await finish.click();
    await s.byTestId('node-state', { timeoutMs: 30000 });
    await h.shot('07-dashboard-first', { docs: false });
  });

  await step('hardware screen shows the lavapipe adapter', async () => {
    await (await s.byTestId('nav-hardware')).click();
    const name = await s.waitForText(tid('gpu-name'), (t) => /llvmpipe|lavapipe/i.test(t), 'the lavapipe adapter', {
      timeoutMs: 30000,
    });
    log(`GPU: ${name}`);
    // The AI models section: none downloaded yet (the demo client pays for matmuls).
    const models = await s.waitForText(tid('models-used'), (t) => /\d/.test(t), 'the models disk use', { timeoutMs: 20000 });
    await s.byTestId('models-none');
    log(`models: ${models}`);
    await h.shot('08-hardware');
  });

  await step('the node computes and earnings rise on the embedded network', async () => {
    await (await s.byTestId('nav-dashboard')).click();
    const state = await waitState(s, COMPUTING, 2 * MINUTE);
    const first = parseAmount(await (await s.byTestId('earnings-today')).text());
    log(`${state}; earnings today ${first}`);
    await h.shot('09-dashboard-computing');
    const text = await s.waitForText(
      tid('earnings-today'),
      (t) => compareDecimal(parseAmount(t), first) > 0,
      'earnings rising',
      { timeoutMs: 6 * MINUTE },
    );
    log(`earnings today rose to ${parseAmount(text)}`);
    const firstEarning = ((Date.now() - launchedAt) / 1000).toFixed(1);
    log(`first launch to earning: ${firstEarning} s (window launch, onboarding with benchmark and wallet, first rise of today's earnings)`);
    h.notes.push(`first launch to earning: ${firstEarning} s`);
    await h.shot('10-dashboard-earning');
    return parseAmount(text);
  });

  await step('dashboard: who paid for each job, paid work waiting, the price list (issue 14)', async () => {
    // The embedded network's demo client pays for matmuls (client work is leased first);
    // the operator's devnet budget pays for calibration work. Each job row says which.
    const rows = async () =>
      s.execute(
        `return [...document.querySelectorAll('[data-testid="job-row"]')].map((r) =>
           [r.dataset.origin, r.querySelector('[data-testid="job-origin"]').textContent.trim()])`,
      );
    const deadline = Date.now() + 3 * MINUTE;
    let list = await rows();
    while (!list.some(([origin]) => origin === 'demo_client') && Date.now() < deadline) {
      await sleep(2000);
      list = await rows();
    }
    const labels = { demo_client: 'demo client', client_paid: 'client-paid', calibration: 'calibration' };
    for (const [origin, label] of list) {
      if (labels[origin] !== label) throw new Error(`job row origin ${origin} labelled ${JSON.stringify(label)}`);
    }
    if (!list.some(([origin]) => origin === 'demo_client')) {
      throw new Error(`no job paid by the demo client in the list: ${JSON.stringify(list)}`);
    }
    const counts = list.reduce((c, [o]) => ({ ...c, [o]: (c[o] ?? 0) + 1 }), {});
    log(`job rows by origin: ${JSON.stringify(counts)}`);
    const note = await (await s.waitFor(tid('demo-client-note'))).text();
    if (!/built-in demo client/.test(note)) throw new Error(`demo client note: ${note}`);
    const demand = await s.waitForText(
      tid('paid-work-waiting'),
      (t) => /^Paid work waiting: \d+ jobs?$|^No paid work waiting/.test(t),
      'paid work waiting',
    );
    log(`demand: ${JSON.stringify(demand)}`);
    for (const id of ['price-matmul', 'price-embeddings', 'price-node_matmul']) {
      const text = await (await s.waitFor(tid(id))).text();
      if (!/\d/.test(text) || !text.includes('IDW')) throw new Error(`${id}: ${JSON.stringify(text)}`);
      log(`${id}: ${JSON.stringify(text.replace(/\s+/g, ' '))}`);
    }
    await h.shot('10b-dashboard-market');
  });

  await step(
    'tray menu: Pause, then Resume, and the dashboard follows',
    async () => {
      const menuShot = join(h.shotDir, '11-tray-menu.png');
      await tray.choose('toggle', { shot: menuShot });
      h.shots.push({ name: '11-tray-menu', file: menuShot, docs: true });
      await waitState(s, ['paused'], 20000);
      await s.byTestId('resume-button');
      log(`paused: ${JSON.stringify(await (await s.byTestId('node-reason')).text())}`);
      await h.shot('12-dashboard-paused');
      await h.shotScreen('12-screen-paused-tray', { docs: false });
      await tray.choose('toggle');
      await waitState(s, ['waiting', ...COMPUTING], 20000);
      await s.byTestId('pause-button');
      // The tray click moved the pointer; after the idle threshold the node computes again.
      await waitState(s, COMPUTING, 2 * MINUTE);
    },
    {
      critical: false,
      onSoftFailure: async (n) => {
        await h.captureFailure(`-step${n}`);
        await tray.closeMenu().catch(() => {});
        const resume = await s.find(tid('resume-button'));
        if (resume) await resume.click(); // leave the node running for the steps after
      },
    },
  );

  const walletAddress = await step('wallet screen: the address and a withdrawable balance', async () => {
    await (await s.byTestId('nav-wallet')).click();
    const address = (await (await s.byTestId('wallet-address', { timeoutMs: 20000 })).text()).trim();
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new Error(`wallet-address shows ${JSON.stringify(address)}`);
    await s.waitForText(tid('balance-withdrawable'), (t) => compareDecimal(parseAmount(t), '0') > 0, 'a withdrawable balance', {
      timeoutMs: 2 * MINUTE,
    });
    await h.shot('13-wallet');
    return address;
  });

  const withdrawal = await step('wallet: withdraw everything to a devnet address, confirmed', async () => {
    await (await s.byTestId('nav-wallet')).click();
    await s.byTestId('withdraw-to', { timeoutMs: 20000 });
    await (await s.byTestId('withdraw-to')).fill(WITHDRAW_TO.replace('C5', 'c5'));
    await (await s.byTestId('withdraw-max')).click();
    await (await s.byTestId('withdraw-submit')).click();
    const bad = await s.byTestId('withdraw-to-error', { timeoutMs: 10000 });
    log(`bad checksum: ${JSON.stringify(await bad.text())}`);
    if (await s.find(tid('withdraw-confirm'))) throw new Error('a bad-checksum address reached the confirmation step');
    await h.shot('13-wallet-bad-address');
    await (await s.byTestId('withdraw-to')).fill(WITHDRAW_TO);
    await (await s.byTestId('withdraw-max')).click();
    const amount = await (await s.byTestId('withdraw-amount')).property('value');
    if (!(compareDecimal(parseAmount(amount), '0') > 0)) throw new Error(`Max filled ${JSON.stringify(amount)}`);
    await (await s.byTestId('withdraw-submit')).click();
    const confirm = await s.byTestId('withdraw-confirm', { timeoutMs: 20000 });
    await h.shot('14-withdraw-confirm');
    await confirm.click();
    const outcome = await waitFor(
      'the withdrawal to be confirmed or fail',
      async () => {
        for (const row of await s.findAll(tid('withdrawal-row'))) {
          const st = await row.attribute('data-status');
          if (st === 'failed' || st === 'confirmed') return { st, text: await row.text() };
        }
        // An error box (error-<kind>) instead of a row: the withdrawal was refused.
        const box = await s.find('[data-testid^="error-"]');
        if (box && (await box.displayed())) return { st: 'refused', text: await box.text() };
        return null;
      },
      { timeoutMs: 3 * MINUTE, intervalMs: 1000 },
    );
    if (outcome.st !== 'confirmed') throw new Error(`the withdrawal ${outcome.st}: ${JSON.stringify(outcome.text)}`);
    await h.shot('15-wallet-withdrawal-confirmed');
    // The owner is told on the desktop too (a notification through the real D-Bus server).
    await waitFor('a "withdrawal" desktop notification', () => notificationsMatching(h, /withdraw/i), { timeoutMs: 20000 });
    log(`withdrew ${amount} from ${walletAddress}: ${JSON.stringify(outcome.text)}`);
    return { amount };
  }, soft);

  const settingsSaved = await step('settings: a bad value is rejected inline, a good one saved', async () => {
    await (await s.byTestId('nav-settings')).click();
    const input = await s.byTestId('settings-max_temp_c', { timeoutMs: 20000 });
    await h.shot('16-settings');
    await input.fill('200');
    await (await s.byTestId('settings-save')).click();
    const err = await s.byTestId('settings-error-max_temp_c', { timeoutMs: 10000 });
    const msg = (await err.text()).trim();
    if (msg.length < 10) throw new Error(`the inline error says only ${JSON.stringify(msg)}`);
    log(`inline error: ${JSON.stringify(msg)}`);
    await h.shot('17-settings-error');
    await (await s.byTestId('settings-max_temp_c')).fill('78');
    await (await s.byTestId('settings-save')).click();
    await s.byTestId('settings-saved', { timeoutMs: 10000 });
    await waitFor('the inline error to go', async () => !(await s.find(tid('settings-error-max_temp_c'))), { timeoutMs: 10000 });
    return true;
  }, soft);

  await step('memory with the window open, then closed to the tray, reopened from the tray', async () => {
    await (await s.byTestId('nav-dashboard')).click();
    await sleep(3000);
    const open = appMemory(h.appPid);
    h.notes.push(`RSS, window open:   ${formatMemory(open)}`);
    log(`RSS, window open: ${formatMemory(open)}`);
    const win = await mainWindow(h);
    const r = await run('python3', [join(here, 'tools', 'x-close-window.py'), String(win)], {
      env: { ...process.env, DISPLAY: h.display },
    });
    if (r.code !== 0) throw new Error(`closing the window: ${r.stderr}`);
    await waitFor('the window to close', async () => !(await visibleWindow(h)), { timeoutMs: 10000 });
    await sleep(8000); // WebKit's helpers wind down
    const closed = appMemory(h.appPid);
    h.notes.push(`RSS, window closed: ${formatMemory(closed)}`);
    log(`RSS, window closed: ${formatMemory(closed)}; the app (pid ${h.appPid}) still runs`);
    await h.shotScreen('18-closed-to-tray');
    await tray.choose('open');
    await waitFor('the window to open again', () => visibleWindow(h), { timeoutMs: 20000 });
    // Closing destroys the webview (src-tauri/src/window.rs); the reopened one is a new
    // browsing context of the same WebDriver session.
    const handles = await waitFor(
      'a window handle',
      async () => {
        const hs = (await s.windowHandles()).filter(Boolean);
        return hs.length ? hs : null;
      },
      { timeoutMs: 20000 },
    ).catch(() => []);
    log(`window handles after reopening: ${JSON.stringify(handles)}`);
    for (const handle of handles.reverse()) {
      try {
        await s.switchToWindow(handle);
        if (await s.find(tid('node-state'))) break;
      } catch {
        /* try the next */
      }
    }
    await s.byTestId('node-state', { timeoutMs: 30000 });
    await h.shot('18-reopened-from-tray', { docs: false });
  }, soft);

  const before = await step('record what must survive a crash', async () => {
    await (await s.byTestId('nav-dashboard')).click();
    const earnings = parseAmount(await (await s.byTestId('earnings-today')).text());
    const jobs = Number(parseAmount(await (await s.byTestId('jobs-done')).text()));
    const wh = (await s.invoke('get_energy', { days: 7 })).total_wh;
    if (!(jobs > 0 && wh > 0)) throw new Error(`nothing to lose yet: ${jobs} jobs, ${wh} Wh`);
    log(`before the kill: earnings today ${earnings}, jobs done ${jobs}, energy ${wh.toFixed(3)} Wh`);
    return { earnings, jobs, wh };
  });

  s = await step('SIGKILL the app and start it again', async () => {
    await h.killApp();
    if (h.opts.betweenRestarts) {
      log(`while the app is down: ${h.opts.betweenRestarts}`);
      const r = await run('bash', ['-c', h.opts.betweenRestarts], { timeoutMs: 5 * MINUTE });
      for (const line of `${r.stdout}${r.stderr}`.trim().split('\n').slice(-15)) log(`  | ${line}`);
      if (r.code !== 0) throw new Error(`--between-restarts exited ${r.code}`);
    }
    const s2 = await h.launch();
    await s2.byTestId('node-state', { timeoutMs: 60000 });
    if (await s2.find(tid('onboarding-next'))) throw new Error('onboarding shown again after a restart');
    return s2;
  });

  await step('after the restart: wallet, history and settings are all there', async () => {
    // Every check runs, and all problems are reported together.
    const problems = [];
    const earnings = parseAmount(await s.waitForText(tid('earnings-today'), (t) => /\d/.test(t), 'earnings'));
    if (compareDecimal(earnings, before.earnings) < 0) {
      problems.push(`earnings today fell from ${before.earnings} to ${earnings} across the restart`);
    }
    if (compareDecimal(earnings, '0') <= 0) problems.push('earnings today are zero after the restart');
    const jobs = Number(parseAmount(await (await s.byTestId('jobs-done')).text()));
    if (jobs < before.jobs) problems.push(`jobs done fell from ${before.jobs} to ${jobs} across the restart`);
    const wh = (await s.invoke('get_energy', { days: 7 })).total_wh;
    if (wh < before.wh) problems.push(`the energy history fell from ${before.wh} Wh to ${wh} Wh across the restart`);
    await h.shot('19-dashboard-after-restart');
    await (await s.byTestId('nav-wallet')).click();
    const address = (await s.waitForText(tid('wallet-address'), (t) => t.trim().length > 0, 'the address')).trim();
    if (address !== walletAddress) problems.push(`wallet ${address} after the restart, ${walletAddress} before`);
    if (withdrawal) {
      const kept = await waitFor(
        'the confirmed withdrawal in the history',
        async () => {
          for (const row of await s.findAll(tid('withdrawal-row'))) if ((await row.attribute('data-status')) === 'confirmed') return true;
          return false;
        },
        { timeoutMs: 30000 },
      ).catch(() => false);
      if (!kept) problems.push('the confirmed withdrawal is missing from the history after the restart');
    }
    await h.shot('20-wallet-after-restart');
    await (await s.byTestId('nav-settings')).click();
    const temp = await (await s.byTestId('settings-max_temp_c', { timeoutMs: 20000 })).property('value');
    if (settingsSaved && String(temp) !== '78') problems.push(`max_temp_c is ${temp} after the restart, 78 was saved`);
    log(`after the restart: wallet ${address}, earnings today ${earnings} (before ${before.earnings}), jobs done ${jobs} (before ${before.jobs}), energy ${wh.toFixed(3)} Wh (before ${before.wh.toFixed(3)}), max_temp_c ${temp}`);
    if (problems.length) throw new Error(problems.join('; '));
  }, soft);

  await step('tray menu: Quit shuts the app down', async () => {
    await tray.choose('quit');
    await h.waitAppExit(30000);
    log('the app exited');
  });
}

/** The 1-based word position a backup input asks for, from its label ("Word 7"). */
async function wordPosition(s, input, k) {
  const own = await input.attribute('data-position');
  if (own && /^\d+$/.test(own)) return Number(own);
  const id = await input.attribute('id');
  const label = id ? await s.find(`label[for="${id}"]`) : null;
  const text = label ? await label.text() : (await input.attribute('aria-label')) ?? '';
  const m = /(\d+)/.exec(text);
  if (!m) throw new Error(`backup input ${k} does not say which word it wants (label ${JSON.stringify(text)})`);
  return Number(m[1]);
}

function wrongWord(word) {
  return word === 'abandon' ? 'zoo' : 'abandon';
}

/** Waits until node-state's data-state is one of `states`. */
async function waitState(s, states, timeoutMs) {
  let last = '';
  await waitFor(
    `the node state ${states.join(' or ')}`,
    async () => {
      const el = await s.find(tid('node-state'));
      if (!el) return false;
      last = (await el.attribute('data-state')) ?? '';
      return states.includes(last);
    },
    { timeoutMs, intervalMs: 500 },
  ).catch(async (err) => {
    const reason = await s.find(tid('node-reason')).then((e) => e && e.text()).catch(() => '');
    throw new Error(`${err.message}; it is "${last}" (${JSON.stringify(reason)})`);
  });
  return last;
}

/** The app's main window (X id), by title. */
async function mainWindow(h) {
  const id = await visibleWindow(h);
  if (!id) throw new Error('no visible window titled Idlewatt');
  return id;
}

async function visibleWindow(h) {
  const r = await run('xdotool', ['search', '--onlyvisible', '--name', '^Idlewatt$'], { env: { ...process.env, DISPLAY: h.display } });
  const ids = r.stdout.trim().split('\n').filter(Boolean).map(Number);
  return ids[0] ?? null;
}

/** The notifications sent so far whose text matches `re` (dbus-monitor's log). */
function notificationsMatching(h, re) {
  if (!existsSync(h.notifyLog)) return null;
  const calls = readFileSync(h.notifyLog, 'utf8').split(/^(?=method call)/m).filter((c) => /member=Notify\b/.test(c));
  const hits = calls.filter((c) => re.test(c));
  return hits.length ? hits : null;
}

/** docs/screenshots names the README uses for some of the run's screenshots. */
const docsAliases = { '10-dashboard-earning': 'dashboard', '11-tray-menu': 'tray-menu' };

export const scenario = { appEnv, run: run_, docsAliases };
