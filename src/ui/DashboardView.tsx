import { endSummaryLines } from './EndSummary.tsx';
import { fitLine, type Line } from './format.ts';
import { ink } from './ink.ts';
import { leaderboardLines } from './Leaderboard.tsx';
import { Lines } from './Lines.tsx';
import { metricsPanelLines } from './MetricsPanel.tsx';
import { progressLine } from './ProgressBar.tsx';
import { runHeaderLine } from './RunHeader.tsx';
import { StageLine } from './StageLine.tsx';
import { stageListLines } from './StageList.tsx';
import { activeProgress, liveStages, runningStages, type DashboardState } from './state.ts';
import { stoppingNoticeLines } from './StoppingNotice.tsx';
import { systemUsageLine } from './SystemUsage.tsx';
import type { SystemSample } from './systemSampler.ts';
import { warningsTailLines } from './WarningsTail.tsx';

export interface DashboardViewProps {
  state: DashboardState;
  /** Terminal columns: every line is cut to fit. */
  width: number;
  /** Terminal rows: the live area stays below this, lowest-priority panels go first. */
  rows: number;
  /** Epoch ms for running stages' elapsed time (the newest event's time when replaying). */
  now: number;
  color: boolean;
  /** CPU/memory of the process running the stages; absent when watching from elsewhere. */
  system?: SystemSample;
  /** Relative path of the run's plots, once they exist. */
  plotsDir?: string;
  /** The live area, when the caller has laid it out already (it measures it too). */
  layout?: DashboardLayout;
}

export function idColumnWidth(state: DashboardState): number {
  return Math.min(24, Math.max(6, ...state.order.map((id) => id.length)));
}

export interface DashboardLayout {
  /** The redrawn part below the finished stages, every line within the width. */
  live: Line[];
}

/**
 * The live area's lines. It must stay shorter than the terminal, else Ink clears the screen
 * on every frame, so rows go to panels by priority: header, Ctrl-C notice, summary, progress,
 * stages, curves, leaderboard, warnings, last log line, machine. They are shown in reading
 * order (header, stages, progress, curves, …, summary).
 */
export function layoutDashboard({ state, width, rows, now, system, plotsDir }: Omit<DashboardViewProps, 'color' | 'layout'>): DashboardLayout {
  const idWidth = idColumnWidth(state);
  let budget = Math.max(3, rows - 2) - 1; // the header's row
  const take = (lines: Line[], most = Infinity): Line[] => {
    const granted = Math.max(0, Math.min(lines.length, most, budget));
    budget -= granted;
    return lines.slice(0, granted);
  };
  const finished = state.finished && state.runId ? state.finished : undefined;

  const running = runningStages(state).map((s) => s.id);
  const stopping = state.stopping && !finished ? take(stoppingNoticeLines({ running, width })) : [];

  const allStages = state.order.map((id) => state.stages[id]).filter(Boolean);
  const summary = finished
    ? take(endSummaryLines({ runId: state.runId!, status: finished.status, durationMs: finished.durationMs, metrics: finished.metrics, stages: allStages, plotsDir, width }))
    : [];

  const progress = finished ? [] : take(activeProgress(state).map((p) => progressLine({ progress: p, idWidth, width })));
  const live = liveStages(state);
  const stageRows = Math.min(live.length, budget);
  const stages = take(stageListLines({ stages: live, idWidth, width, now, maxRows: stageRows }));

  const series = state.latestSeries ? state.series[state.latestSeries] : undefined;
  const curves = series ? take(metricsPanelLines({ series, width, maxRows: Math.min(5, budget) })) : [];

  const { objectiveMode: mode, objectiveMetric: metric } = state.options;
  const trials = state.trials ? take(leaderboardLines({ trials: state.trials, metric, mode, width, finished: !!finished, maxRows: Math.min(10, budget) })) : [];

  const warnings = take(warningsTailLines({ warnings: state.warnings, count: state.warningCount, maxRows: Math.min(4, budget) }));
  const info = state.lastInfo && !finished ? take([[{ text: `  ${state.lastInfo}`, tone: 'muted' }]]) : [];
  const machine = system && !finished ? take([systemUsageLine({ sample: system, width })]) : [];

  const elapsedMs = finished ? finished.durationMs : state.startedAt !== undefined ? Math.max(0, now - state.startedAt) : undefined;
  const header = runHeaderLine({ runId: state.runId, spec: state.spec, elapsedMs, finishedStages: state.finishedStages.length, totalStages: state.order.length, width });
  const lines = [header, ...stages, ...progress, ...curves, ...trials, ...warnings, ...info, ...machine, ...stopping, ...summary];
  return { live: lines.map((line) => fitLine(line, width)) };
}

/**
 * The whole screen: finished stages in <Static> (printed once, kept in scroll-back), the
 * live area below it redrawn.
 */
export function DashboardView(props: DashboardViewProps) {
  const { state, width, now, color } = props;
  const idWidth = idColumnWidth(state);
  const { live } = props.layout ?? layoutDashboard(props);
  const { Box, Static } = ink();
  return (
    <Box flexDirection="column" width={width}>
      <Static items={state.finishedStages}>
        {(stage) => <StageLine key={stage.id} stage={stage} idWidth={idWidth} width={width} now={now} color={color} />}
      </Static>
      <Lines lines={live} width={width} color={color} />
    </Box>
  );
}
