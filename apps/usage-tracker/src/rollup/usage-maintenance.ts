import type { Logger } from '@app/common';
import type { MaintenanceOptions } from '../config.js';
import {
  DAY_MS,
  hourPartition,
  minutePartition,
  nextUtcMonth,
  startOfUtcDay,
  startOfUtcHour,
  startOfUtcMonth,
} from '../database/usage-partitions.js';
import { MaintenanceBusy, type RollupState, type UsageRollupRepository } from './usage-rollup.repository.js';
import * as metrics from './rollup-metrics.js';

/** An hour is rolled up this long after it ends: batches of its last seconds have landed by then (later ones are late uses). */
export const ROLLUP_GRACE_MS = 5 * 60_000;
/** Day partitions kept ready before the day starts. */
const DAYS_AHEAD = 2;
/** Late rows folded per transaction. */
const FOLD_CHUNK = 10_000;

export interface MaintenanceRun {
  /** False when another replica held the lease: this run did nothing. */
  ran: boolean;
  partitionsCreated: string[];
  hoursRolled: number;
  lateFolded: number;
  partitionsDropped: string[];
  state?: RollupState;
}

/**
 * Usage storage upkeep, in order, each step its own transaction(s) under the maintenance lease:
 * 1. partitions for the coming days and month;
 * 2. roll closed hours (`ROLLUP_GRACE_MS` after their end) into hour and day rows, one per transaction;
 * 3. fold late uses (writes to already rolled hours) into hour and day rows;
 * 4. drop partitions before the horizons the previous run set, then move the horizons to
 *    `USAGE_MINUTE_RETENTION_DAYS` / `USAGE_HOUR_RETENTION_DAYS` (never past what is rolled up).
 * The clock is injected: specs run days of upkeep without waiting.
 */
export class UsageMaintenance {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<MaintenanceRun> | undefined;

  constructor(
    private readonly repository: UsageRollupRepository,
    private readonly options: MaintenanceOptions,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  start(): void {
    if (this.options.intervalMs === 0 || this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
    void this.tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One run; a run still going is not started twice. */
  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = this.runOnce();
    try {
      const run = await this.running;
      if (run.ran && (run.partitionsCreated.length || run.hoursRolled || run.lateFolded || run.partitionsDropped.length)) {
        this.logger.info({ ...run, state: undefined }, 'usage storage maintained');
      }
    } catch (error) {
      metrics.maintenanceFailures.inc();
      this.logger.error({ err: error }, 'usage storage maintenance failed; the next run continues where it stopped');
    } finally {
      this.running = undefined;
    }
  }

  async runOnce(nowMs = this.clock()): Promise<MaintenanceRun> {
    const run: MaintenanceRun = { ran: false, partitionsCreated: [], hoursRolled: 0, lateFolded: 0, partitionsDropped: [] };
    try {
      const before = await this.repository.state();
      run.partitionsCreated = await this.repository.ensurePartitions(this.comingPartitions(nowMs, before));
      run.ran = true;

      await this.repository.openHoursBefore(startOfUtcHour(nowMs - ROLLUP_GRACE_MS));
      for (let rolled = await this.repository.rollNextHour(); rolled; rolled = await this.repository.rollNextHour()) {
        run.hoursRolled += 1;
        metrics.hoursRolled.inc();
      }
      for (let folded = FOLD_CHUNK; folded === FOLD_CHUNK;) {
        folded = await this.repository.foldLate(FOLD_CHUNK);
        run.lateFolded += folded;
        metrics.lateFolded.inc(folded);
      }

      run.partitionsDropped = await this.repository.dropExpired();
      metrics.partitionsDropped.inc(run.partitionsDropped.length);
      run.state = await this.repository.advanceHorizons(
        startOfUtcDay(nowMs - this.options.minuteRetentionDays * DAY_MS),
        startOfUtcMonth(nowMs - this.options.hourRetentionDays * DAY_MS),
      );
      metrics.rolledTo.set(run.state.rolledTo / 1000);
      return run;
    } catch (error) {
      if (error instanceof MaintenanceBusy) return run;
      throw error;
    }
  }

  /** Yesterday to `DAYS_AHEAD` days ahead, this month and the next; none before a horizon. */
  private comingPartitions(nowMs: number, state: RollupState) {
    const days = [];
    for (let day = startOfUtcDay(nowMs) - DAY_MS; day <= startOfUtcDay(nowMs) + DAYS_AHEAD * DAY_MS; day += DAY_MS) {
      if (state.minutesFrom === null || day >= state.minutesFrom) days.push(minutePartition(day));
    }
    const months = [startOfUtcMonth(nowMs), nextUtcMonth(nowMs)]
      .map((month) => hourPartition(month))
      .filter((partition) => state.hoursFrom === null || partition.to.getTime() > state.hoursFrom);
    return [...days, ...months];
  }
}
