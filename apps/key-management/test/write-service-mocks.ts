import { automock } from '@app/testing';
import { AuditLog } from '../src/audit/audit-log.js';
import { Transactions, type Tx } from '../src/database/transactions.js';
import { EventPublisher } from '../src/events/event-publisher.js';

/** A stand-in for the transaction handle: a service only passes it on to the repositories. */
export const TX = { transaction: 'handle' } as unknown as Tx;

/**
 * The collaborators every key-management write service has: the transaction runner, the event
 * publisher and the audit log, as typed automocks. `primeWriteMocks` (in each beforeEach, after
 * jest.clearAllMocks) makes the runner hand its work TX and the audit log record without error.
 */
export function writeServiceMocks() {
  const transactions = automock(Transactions);
  const events = automock(EventPublisher);
  const audit = automock(AuditLog);
  const primeWriteMocks = () => {
    transactions.run.mockImplementation((work) => work(TX));
    audit.record.mockResolvedValue(undefined);
  };
  return { transactions, events, audit, primeWriteMocks };
}
