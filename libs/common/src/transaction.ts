import type { DataSource, QueryRunner } from 'typeorm';

/**
 * Runs `work` in one transaction on a connection of its own: committed when `work` resolves,
 * rolled back (and the error passed on) when it throws; the connection goes back to the pool either way.
 */
export async function inTransaction<T>(dataSource: DataSource, work: (runner: QueryRunner) => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    const result = await work(runner);
    await runner.commitTransaction();
    return result;
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await runner.release();
  }
}
