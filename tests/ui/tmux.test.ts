/**
 * The dashboard in a real terminal: a detached tmux session of fixed size runs the toy
 * pipeline through the same reporter choice and Ctrl-C handling as `xp run`, and the test
 * reads the screen (`tmux capture-pane -p`) the way a person would.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, useTempDirs } from '../fixtures/tempProject.ts';

const tempDir = useTempDirs();
const tmuxAvailable = spawnSync('tmux', ['-V']).status === 0;
const socket = path.join(tmpdir(), `xp-ui-tmux-${process.pid}.sock`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tmux(...args: string[]): string {
  const result = spawnSync('tmux', ['-S', socket, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** A detached session running `command` in the repository, with a clean environment for a dashboard. */
function startSession(name: string, command: string, columns = 100, rows = 30): void {
  const shell = `cd ${JSON.stringify(REPO_ROOT)} && env -u CI -u CONTINUOUS_INTEGRATION -u NO_COLOR TERM=xterm-256color ${command}; echo "[exited $?]"; sleep 600`;
  tmux('new-session', '-d', '-s', name, '-x', String(columns), '-y', String(rows), shell);
}

/** The visible screen, trailing blank lines dropped. */
function capture(name: string): string {
  return tmux('capture-pane', '-p', '-t', name).replace(/\s+$/, '');
}

async function waitForScreen(name: string, test: (screen: string) => boolean, timeoutMs = 40_000): Promise<string> {
  const start = Date.now();
  for (;;) {
    const screen = capture(name);
    if (test(screen)) return screen;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out; the screen was:\n${screen}`);
    await sleep(50);
  }
}

const toy = (root: string, sleepMs: number) => `node --import tsx tests/fixtures/xpToy.ts ${JSON.stringify(root)} ${sleepMs}`;
const PROGRESS = /^ {2}scale\s+[█▏▎▍▌▋▊▉]*░+\s+\d+%.*ETA/m;

afterEach(() => {
  if (!tmuxAvailable) return;
  spawnSync('tmux', ['-S', socket, 'kill-server']);
  rmSync(socket, { force: true });
});

describe.skipIf(!tmuxAvailable)('dashboard in a 100×30 tmux pane', () => {
  it('shows stages, a running stage with its progress bar, then the summary; `xp watch` redraws the finished run', async () => {
    const root = tempDir();
    startSession('run', toy(root, 5_000));

    const mid = await waitForScreen('run', (s) => PROGRESS.test(s));
    console.log(`--- mid-run (100 columns) ---\n${mid}`);
    expect(mid).toMatch(/^✓ source\s+done\s+[0-9a-f]{12}\s+\d/m); // finished: printed above (Static)
    expect(mid).toMatch(/^xp · toy · run \d{8}-\d{6}-toy-[0-9a-f]{4} · /m);
    expect(mid).toMatch(/^▸ scale\s+running\s+[0-9a-f]{12}\s+\d/m);
    expect(mid).toMatch(/^· report\s+pending/m);
    expect(mid).toMatch(/\d+\/40 batches\s+(?:[\d.]+ batches\/s|[\d.]+m?s\/batch)\s+ETA [\d.]+m?s/);
    expect(mid.split('\n').filter((l) => l.startsWith('xp · '))).toHaveLength(1);

    const end = await waitForScreen('run', (s) => s.includes('[exited '));
    console.log(`--- end (100 columns) ---\n${end}`);
    const runId = end.match(/^run (\S+) done in /m)?.[1];
    expect(runId).toMatch(/^\d{8}-\d{6}-toy-[0-9a-f]{4}$/);
    expect(end).toContain('[exited 0]');
    expect(end).toMatch(/· 0 of 3 stages from cache/);
    expect(end).toMatch(/^ {2}report\.sum\s+12$/m);
    expect(end).toContain(`record: runs/${runId}/run.json`);
    expect(end).toMatch(/^ {4}loss\s+[▁▂▃▄▅▆▇█]+\s+0\.\d{4}/m);
    expect(end).toMatch(/! scale: half way/);
    // Each finished stage's line is on the screen exactly once: no half-erased frames left behind.
    for (const stage of ['source', 'scale', 'report']) expect(end.match(new RegExp(`^✓ ${stage} `, 'gm')), stage).toHaveLength(1);
    expect(end).not.toContain('▸ ');
    expect(end.split('\n').filter((l) => l.startsWith('xp · '))).toHaveLength(1);

    startSession('watch', `XP_ROOT=${JSON.stringify(root)} node bin/xp.js watch latest`);
    const watched = await waitForScreen('watch', (s) => s.includes('[exited '));
    console.log(`--- xp watch latest (finished run) ---\n${watched}`);
    expect(watched).toContain('[exited 0]');
    expect(watched).toContain(`run ${runId} done in`);
    expect(watched).toMatch(/^✓ scale\s+done/m);
    expect(watched).toMatch(/^ {2}report\.sum\s+12$/m);
  }, 120_000);

  it('Ctrl-C shows what is being stopped, and the run ends interrupted (exit 130)', async () => {
    const root = tempDir();
    startSession('stop', toy(root, 20_000));
    await waitForScreen('stop', (s) => PROGRESS.test(s));
    tmux('send-keys', '-t', 'stop', 'C-c');
    const stopping = await waitForScreen('stop', (s) => s.includes('stopping:') || s.includes('[exited '));
    console.log(`--- after Ctrl-C ---\n${stopping}`);
    // The toy's stage takes 1.5 s to stop: the notice is on screen meanwhile, below the live stages.
    expect(stopping.replace(/\n/g, ' ')).toMatch(
      /stopping: scale \(running\) … finished stages stay cached; run the same command again to resume; Ctrl-C again to force/,
    );
    expect(stopping).toMatch(/^▸ scale\s+running/m);
    const end = await waitForScreen('stop', (s) => s.includes('[exited '));
    console.log(`--- after Ctrl-C, end ---\n${end}`);
    expect(end).toContain('[exited 130]');
    expect(end).toMatch(/^run \S+ interrupted after /m);
    expect(end).toMatch(/stopped: scale/);
    expect(end).toMatch(/finished stages stay cached; run the same command again to resume/);
    expect(end).toMatch(/^✗ scale\s+stopped\s+[0-9a-f]{12}\s+[\d.]+s$/m);
    expect(end).toMatch(/^- report\s+skipped/m);
    expect(end).not.toContain('stopping:'); // replaced by the summary
  }, 120_000);

  it('a terminal narrowed to 60 columns mid-run keeps a clean screen', async () => {
    const root = tempDir();
    startSession('narrow', toy(root, 6_000));
    await waitForScreen('narrow', (s) => PROGRESS.test(s));
    tmux('resize-window', '-t', 'narrow', '-x', '60', '-y', '30');
    await sleep(700);
    const narrowed = capture('narrow');
    console.log(`--- resized to 60 columns mid-run ---\n${narrowed}`);
    const end = await waitForScreen('narrow', (s) => s.includes('[exited '));
    console.log(`--- resized to 60 columns, end ---\n${end}`);
    for (const screen of [narrowed, end]) {
      expect(screen.split('\n').filter((l) => l.startsWith('xp · '))).toHaveLength(1);
      for (const line of screen.split('\n')) expect([...line].length).toBeLessThanOrEqual(60);
    }
    expect(narrowed).toMatch(/^ {2}scale\s+[█▏▎▍▌▋▊▉░]+\s+\d+%/m);
    expect(end).toContain('[exited 0]');
    expect(end).toMatch(/^run \S+ done in /m);
  }, 120_000);
});
