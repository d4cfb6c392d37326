import type { StampedEvent } from '../runner/events.ts';
import { formatDuration } from '../cli/output.ts';

/**
 * One timestamped line per event, no colours or cursor movement: for CI logs and pipes.
 * Progress is reported at most every few seconds per stage to keep logs short.
 */
export function plainReporter(write: (line: string) => void): (event: StampedEvent) => void {
  const lastProgress = new Map<string, number>();
  return (event) => {
    const time = event.time.slice(11, 19);
    const line = (text: string) => write(`${time} ${text}`);
    switch (event.type) {
      case 'run-started':
        line(`run ${event.runId} (${event.spec}): ${event.stages.map((s) => s.id).join(' → ') || 'no stages'}`);
        break;
      case 'stage-status':
        if (event.status === 'pending') break;
        if (event.status === 'failed') line(`${event.stage}: failed after ${formatDuration(event.durationMs)}: ${event.error ?? ''}`);
        else if (event.status === 'running') line(`${event.stage}: running (key ${event.key?.slice(0, 12)})`);
        else if (event.status === 'cached') line(`${event.stage}: cached (key ${event.key?.slice(0, 12)})`);
        else if (event.status === 'done') line(`${event.stage}: done in ${formatDuration(event.durationMs)}`);
        else line(`${event.stage}: ${event.status}`);
        break;
      case 'stage-progress': {
        const now = Date.parse(event.time);
        if (event.done < event.total && now - (lastProgress.get(event.stage) ?? 0) < 5_000) break;
        lastProgress.set(event.stage, now);
        line(`${event.stage}: ${event.done}/${event.total} ${event.unit}`);
        break;
      }
      case 'log':
        line(`${event.stage ? `${event.stage}: ` : ''}${event.level === 'warn' ? 'warning: ' : ''}${event.message}`);
        break;
      case 'metrics': {
        const values = Object.entries(event.values).map(([k, v]) => `${k}=${formatNumber(v)}`).join(' ');
        line(`${event.stage}: ${event.series ?? 'step'} ${event.step}: ${values}`);
        break;
      }
      case 'trial':
        if (event.status === 'running' && event.epoch !== undefined) break;
        line(
          `${event.stage}: trial ${event.trial} ${event.status}` +
            (event.objective !== undefined ? ` objective=${formatNumber(event.objective)}` : '') +
            (event.error ? `: ${event.error}` : '') +
            (event.status === 'running' ? ` ${JSON.stringify(event.params)}` : ''),
        );
        break;
      case 'run-finished':
        line(`run ${event.status} in ${formatDuration(event.durationMs)}`);
        break;
    }
  };
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}
