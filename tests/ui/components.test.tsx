import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';
import { describe, expect, it } from 'vitest';
import { DashboardView } from '../../src/ui/DashboardView.tsx';
import { EndSummary, metricRows } from '../../src/ui/EndSummary.tsx';
import { Leaderboard } from '../../src/ui/Leaderboard.tsx';
import { MetricsPanel } from '../../src/ui/MetricsPanel.tsx';
import { bar, ProgressBar } from '../../src/ui/ProgressBar.tsx';
import { RunHeader } from '../../src/ui/RunHeader.tsx';
import { Sparkline, sparkline } from '../../src/ui/Sparkline.tsx';
import { StageLine } from '../../src/ui/StageLine.tsx';
import { StageList } from '../../src/ui/StageList.tsx';
import { initialState, liveStages, markStopping, reduce, type DashboardState } from '../../src/ui/state.ts';
import { StoppingNotice } from '../../src/ui/StoppingNotice.tsx';
import { SystemUsage } from '../../src/ui/SystemUsage.tsx';
import type { SystemSample } from '../../src/ui/systemSampler.ts';
import { paintLine } from '../../src/ui/Lines.tsx';
import { colorEnabled, paint } from '../../src/ui/theme.ts';
import { WarningsTail } from '../../src/ui/WarningsTail.tsx';
import { loadInk } from '../../src/ui/ink.ts';
import { finishedRun, midRun, searchRun } from './events.ts';

await loadInk();

const WIDTHS = [100, 60] as const;

function frame(element: ReactElement): string {
  const { lastFrame, unmount } = render(element);
  const text = lastFrame() ?? '';
  unmount();
  return text;
}

/** What a terminal of `width` columns shows: no line may be wider, or it would wrap. */
function expectFits(text: string, width: number): void {
  for (const line of text.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(width);
  expect(text).not.toMatch(/\u001b\[/); // color={false}: plain text
}

const mid = midRun().reduce(reduce, initialState());
const search = searchRun().reduce(reduce, initialState({ objectiveMode: 'max', objectiveMetric: 'val_f1' }));
const done = finishedRun().reduce(reduce, initialState());
const now = (state: DashboardState) => state.lastEventAt!;
const machine: SystemSample = { cpuPercent: 153.4, cores: 2, rssBytes: 412 * 2 ** 20, heapUsedBytes: 96 * 2 ** 20, load1: 1.92, freeMemBytes: 3.1 * 2 ** 30, totalMemBytes: 7.8 * 2 ** 30 };

describe.each(WIDTHS)('at %i columns', (width) => {
  it('stage list: glyph, name, status, key, time; pending ones collapse when rows run out', () => {
    const text = frame(<StageList stages={liveStages(mid)} idWidth={8} width={width} now={now(mid)} color={false} />);
    expectFits(text, width);
    expect(text).toMatch(/^▸ train\s+running/m);
    expect(text).toMatch(/^· eval\s+pending/m);
    const squeezed = frame(<StageList stages={liveStages(mid)} idWidth={8} width={width} now={now(mid)} color={false} maxRows={1} />);
    expect(squeezed.split('\n')).toHaveLength(1);
    expect(text).toMatchSnapshot();
  });

  it('finished stage line (the Static area)', () => {
    const failed = { id: 'features', needs: ['ingest'], status: 'failed' as const, key: 'f00dfeedbeefcafe', durationMs: 3_400, error: 'clips/x.mp3: not an MP3 file\nstack…' };
    const stopped = { ...failed, id: 'train', error: 'interrupted' };
    const text = [mid.finishedStages[0], mid.finishedStages[1], failed, stopped].map((stage) => frame(<StageLine stage={stage} idWidth={8} width={width} now={0} color={false} />)).join('\n');
    expectFits(text, width);
    expect(text).toContain('not an MP3 file');
    expect(text).not.toContain('stack');
    expect(text).toMatch(/^✗ train\s+stopped\s/m);
    expect(text).not.toContain('interrupted');
    expect(text).toMatchSnapshot();
  });

  it('progress bar with rate and ETA', () => {
    const features = { stage: 'features', done: 1234, total: 2700, unit: 'clips', at: 0, rate: 56.1, etaMs: 26_100, samples: [] };
    const epochs = { stage: 'train', done: 12, total: 30, unit: 'epochs', at: 0, rate: 1 / 42, etaMs: 756_000, samples: [] };
    const text = [features, epochs].map((p) => frame(<ProgressBar progress={p} idWidth={8} width={width} color={false} />)).join('\n');
    expectFits(text, width);
    expect(text).toContain('45%');
    expect(text).toContain('ETA 26.1s');
    expect(text).toContain('42.0s/epoch');
    if (width === 100) expect(text).toContain('1234/2700 clips');
    expect(text).toMatchSnapshot();
  });

  it('loss and validation sparklines', () => {
    const series = mid.series[mid.latestSeries!];
    const text = frame(<MetricsPanel series={series} width={width} color={false} />);
    expectFits(text, width);
    expect(text).toContain('train · epoch 12 · 812 samples/s');
    expect(text.split('\n').map((l) => l.trim().split(/\s+/)[0])).toEqual(['train', 'loss', 'val_loss', 'val_accuracy', 'val_f1']);
    expect(text).toMatchSnapshot();
  });

  it('search leaderboard', () => {
    const text = frame(<Leaderboard trials={search.trials!} metric="val_f1" mode="max" width={width} color={false} />);
    expectFits(text, width);
    expect(text).toContain('search · trials: 6 done · 2 running · 1 failed · 2 pruned');
    const ranks = text.split('\n').filter((l) => /^\s+\d+\s+#\d+/.test(l)).map((l) => l.trim().split(/\s+/).slice(0, 3).join(' '));
    expect(ranks).toEqual(['1 #5 0.8600', '2 #8 0.8600', '3 #2 0.8300', '4 #7 0.8100', '5 #4 0.7800']);
    expect(text).toMatch(/▸\s+#10\s+epoch 4/);
    expect(text).toMatchSnapshot();
  });

  it('CPU and memory', () => {
    const text = frame(<SystemUsage sample={machine} width={width} color={false} />);
    expectFits(text, width);
    expect(text).toContain('cpu 153% of 2 cores · load 1.92 · rss 412 MB');
    expect(text).toMatchSnapshot();
  });

  it('warnings tail', () => {
    const warnings = ['features: clip a.mp3 is silent after trimming; skipped', 'features: clip b.mp3 is shorter than 0.5 s; padded', 'train: val_loss went up 3 epochs in a row'];
    const text = frame(<WarningsTail warnings={warnings} count={7} width={width} color={false} maxRows={3} />);
    expectFits(text, width);
    expect(text.split('\n')[0]).toBe('  warnings (7, last 2):');
    expect(text).not.toContain('a.mp3');
    expect(text).toMatchSnapshot();
  });

  it('end summary with intervals, cache hits, record and plots', () => {
    const f = done.finished!;
    const stages = done.order.map((id) => done.stages[id]);
    const text = frame(
      <EndSummary runId={done.runId!} status={f.status} durationMs={f.durationMs} metrics={f.metrics} stages={stages} plotsDir={`runs/${done.runId}/plots/`} width={width} color={false} />,
    );
    expectFits(text, width);
    expect(text).toMatch(/eval\.f1\s+0\.8123 \[0\.7901, 0\.8345\]/);
    expect(text).not.toMatch(/f1_lo|f1_hi/);
    expect(text).toContain('1 of 4 stages from cache');
    expect(text).toContain(`record: runs/${done.runId}/run.json`);
    expect(text).toContain(`plots:  runs/${done.runId}/plots/`);
    expect(text).toMatchSnapshot();
  });

  it('Ctrl-C notice: what is stopped, what to do next, wrapped not cut', () => {
    const text = frame(<StoppingNotice running={['features', 'train']} width={width} color={false} />);
    expectFits(text, width);
    const joined = text.split('\n').join(' ');
    expect(joined).toBe(
      'stopping: features (running), train (running) … finished stages stay cached; run the same command again to resume; Ctrl-C again to force',
    );
    expect(text).toMatchSnapshot();
  });

  it('header', () => {
    const text = frame(<RunHeader runId={mid.runId} spec={mid.spec} elapsedMs={38_500} finishedStages={2} totalStages={4} width={width} color={false} />);
    expectFits(text, width);
    expect(text).toContain(`xp · cnn-lstm · run ${mid.runId}`);
    expect(text).toMatchSnapshot();
  });

  it('whole dashboard mid-run, during a search, stopping, and finished', () => {
    const frames = {
      mid: frame(<DashboardView state={mid} width={width} rows={30} now={now(mid)} color={false} system={machine} />),
      search: frame(<DashboardView state={search} width={width} rows={30} now={now(search)} color={false} />),
      stopping: frame(<DashboardView state={markStopping(mid)} width={width} rows={30} now={now(mid)} color={false} />),
      done: frame(<DashboardView state={done} width={width} rows={30} now={now(done)} color={false} plotsDir={`runs/${done.runId}/plots/`} />),
    };
    for (const text of Object.values(frames)) expectFits(text, width);
    // Finished stages sit above the live area (Static), the running one below the header.
    const lines = frames.mid.split('\n');
    expect(lines.findIndex((l) => l.startsWith('✓ features'))).toBeLessThan(lines.findIndex((l) => l.startsWith('xp · ')));
    expect(lines.findIndex((l) => l.startsWith('▸ train'))).toBeGreaterThan(lines.findIndex((l) => l.startsWith('xp · ')));
    expect(frames.stopping).toContain('stopping: train (running)');
    expect(frames.done).toMatch(/^run 20260301-120000-cnn-lstm-3f2a done in 41\.7s/m);
    expect(frames.done).not.toContain('▸');
    expect(frames).toMatchSnapshot();
  });
});

describe('the live area stays shorter than the terminal', () => {
  it('drops low-priority panels first on a short terminal', () => {
    const text = frame(<DashboardView state={mid} width={100} rows={10} now={now(mid)} color={false} system={machine} />);
    const live = text.split('\n').slice(mid.finishedStages.length);
    expect(live.length).toBeLessThanOrEqual(8);
    expect(live[0]).toMatch(/^xp · /);
    expect(text).toContain('▸ train');
    expect(text).toMatch(/train\s+█+/);
    expect(text).not.toContain('cpu ');
  });
});

describe('building blocks', () => {
  it('sparkline scales to the range, buckets long series, flat stays mid-height', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([3, 3, 3], 10)).toBe('▄▄▄');
    expect(sparkline(Array.from({ length: 100 }, (_, i) => i), 10)).toHaveLength(10);
    expect(frame(<Sparkline label="val_loss" values={[0.9, 0.5, 0.4, 0.45]} steps={[1, 2, 3, 4]} width={60} color={false} />)).toBe(
      '    val_loss      █▂▁▁  0.4500  best 0.4000 @ 3',
    );
  });

  it('progress bar fills in eighths', () => {
    expect(bar(0.5, 10)).toEqual({ filled: '█████', empty: '░░░░░' });
    expect(bar(0.0625, 4)).toEqual({ filled: '▎', empty: '░░░' });
    expect(bar(1.5, 4)).toEqual({ filled: '████', empty: '' });
  });

  it('metric rows pair <m> with <m>_lo/<m>_hi only when all three exist', () => {
    expect(metricRows({ f1: 0.5, f1_lo: 0.4, f1_hi: 0.6, auc_lo: 0.1, n: 3 })).toEqual([
      { name: 'f1', text: '0.5000 [0.4000, 0.6000]' },
      { name: 'auc_lo', text: '0.1000' },
      { name: 'n', text: '3' },
    ]);
  });

  it('no colours when NO_COLOR is set or the terminal is dumb', () => {
    expect(colorEnabled({})).toBe(true);
    expect(colorEnabled({ NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ TERM: 'dumb' })).toBe(false);
    expect(paint('failed', 'fail', false)).toBe('failed');
    expect(paint('failed', 'fail', true)).toBe('\u001b[31mfailed\u001b[39m');
    const line = [{ text: '✓ ', tone: 'ok' as const }, { text: 'ingest' }, { text: '  118ms', tone: 'muted' as const }];
    expect(paintLine(line, false)).toBe('✓ ingest  118ms');
    expect(paintLine(line, true)).toBe('\u001b[32m✓ \u001b[39mingest\u001b[2m  118ms\u001b[22m');
  });
});
