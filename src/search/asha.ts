/**
 * Asynchronous successive halving (Li, Jamieson, Rostamizadeh, Gonina, Ben-tzur, Hardt,
 * Recht & Talwalkar, "A system for massively parallel hyperparameter tuning", MLSys 2020),
 * with epochs as the resource.
 *
 * Rungs are at min_epochs·η^k epochs, and the top rung is `train.epochs`. Whenever a worker
 * needs a job, ASHA looks from the highest rung down for a trial that is in the top 1/η of the
 * results recorded at its rung and not yet promoted, and promotes it (trains it on, from its
 * checkpoint, to the next rung); if there is none it starts a new trial at the bottom rung.
 * `search.trials` bounds the trials started; once all have been, rungs with fewer than η
 * results still promote their best (see `final`), so some trial always reaches the top.
 * Promoting a trial that stopped early (training's own early stopping) trains nothing: the
 * scheduler carries its final result up instead of issuing a training job.
 *
 * The pure decision is here; `schedule.ts` decides *which results it may see* so that the job
 * sequence is the same at any worker count (see there).
 */

/** Rung budgets in epochs: min·η^k for k < s_max, then `maxEpochs` (s_max = ⌊log_η(max/min)⌋). */
export function ashaRungs(minEpochs: number, eta: number, maxEpochs: number): number[] {
  const min = Math.max(1, Math.min(minEpochs, maxEpochs));
  const rungs: number[] = [];
  for (let r = min; r < maxEpochs && rungs.length < 64; r *= eta) {
    // The last rung below the top must leave at least a factor η to it (as s_max does).
    if (r * eta > maxEpochs && rungs.length > 0) break;
    rungs.push(r);
  }
  if (rungs[rungs.length - 1] !== maxEpochs) rungs.push(maxEpochs);
  return rungs;
}

export interface AshaJobView {
  trial: number;
  rung: number;
}

/** A finished job as ASHA sees it: the loss (lower is better) or null for a failed job. */
export type AshaResult = { loss: number } | null;

export type AshaDecision = { type: 'promote'; trial: number; rung: number } | { type: 'new' } | { type: 'idle' };

/**
 * The next job. `jobs` are all jobs issued so far (in order); `results[i]` is job i's result
 * if ASHA may use it, undefined if not (still running, or deliberately hidden). A trial with
 * any job at rung r+1 (running or not) is already promoted from r.
 */
export function ashaDecide(options: {
  jobs: readonly AshaJobView[];
  results: readonly (AshaResult | undefined)[];
  rungs: readonly number[];
  eta: number;
  /** Whether the trial budget still allows starting a new trial. */
  canStartNew: boolean;
  /**
   * End of a finite search (no new trials, every result in): a rung may promote its best even
   * with fewer than η results — max(1, ⌊n/η⌋), as synchronous successive halving — so the
   * search always ends with at least one trial trained to the full budget.
   */
  final?: boolean;
}): AshaDecision {
  const { jobs, results, rungs, eta } = options;
  const promoted = new Set(jobs.map((job) => `${job.trial}:${job.rung}`));
  for (let rung = rungs.length - 2; rung >= 0; rung--) {
    const recorded: { trial: number; loss: number }[] = [];
    jobs.forEach((job, i) => {
      const result = results[i];
      // A failed job counts at its rung, as the worst result (it is never promoted).
      if (job.rung === rung && result !== undefined) recorded.push({ trial: job.trial, loss: result ? result.loss : Infinity });
    });
    recorded.sort((a, b) => a.loss - b.loss || a.trial - b.trial);
    const keep = Math.floor(recorded.length / eta);
    const top = recorded.slice(0, options.final ? Math.max(1, keep) : keep);
    const candidate = top.find((r) => Number.isFinite(r.loss) && !promoted.has(`${r.trial}:${rung + 1}`));
    if (candidate) return { type: 'promote', trial: candidate.trial, rung: rung + 1 };
  }
  return options.canStartNew ? { type: 'new' } : { type: 'idle' };
}
