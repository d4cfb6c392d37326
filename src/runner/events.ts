/**
 * Everything that happens in a run, as a closed union of events. Reporters (plain log,
 * Ink dashboard, --json) and the run's events.ndjson all consume the same stream.
 */
export type StageStatus = 'pending' | 'running' | 'cached' | 'done' | 'failed' | 'skipped';
export type RunStatus = 'running' | 'done' | 'failed' | 'interrupted';

export type RunEvent =
  | { type: 'run-started'; runId: string; spec: string; stages: { id: string; needs: string[] }[] }
  | { type: 'stage-status'; stage: string; status: StageStatus; key?: string; durationMs?: number; error?: string }
  | { type: 'stage-progress'; stage: string; done: number; total: number; unit: string }
  | { type: 'log'; level: 'info' | 'warn'; stage?: string; message: string }
  /** Per-step numbers (an epoch's losses, a trial's objective) for curves and leaderboards. */
  | { type: 'metrics'; stage: string; step: number; values: Record<string, number>; series?: string }
  /** A search trial's life: started, per-epoch progress, finished / failed / pruned (ASHA). */
  | {
      type: 'trial';
      stage: string;
      trial: number;
      status: 'running' | 'done' | 'failed' | 'pruned' | 'cached';
      params: Record<string, unknown>;
      epoch?: number;
      objective?: number;
      error?: string;
    }
  | { type: 'run-finished'; status: RunStatus; durationMs: number; metrics: Record<string, number> };

export type StampedEvent = RunEvent & { time: string; seq: number };
export type Listener = (event: StampedEvent) => void;

const PROGRESS_INTERVAL_MS = 200;

export class RunEvents {
  private listeners: Listener[] = [];
  private seq = 0;
  private lastProgress = new Map<string, number>();

  on(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  emit(event: RunEvent): void {
    if (event.type === 'stage-progress' && event.done < event.total) {
      // Progress can be reported per clip; reporters only need a few updates a second.
      const now = Date.now();
      if (now - (this.lastProgress.get(event.stage) ?? 0) < PROGRESS_INTERVAL_MS) return;
      this.lastProgress.set(event.stage, now);
    }
    const stamped = { ...event, time: new Date().toISOString(), seq: this.seq++ } as StampedEvent;
    for (const listener of this.listeners) listener(stamped);
  }
}
