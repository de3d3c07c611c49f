import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/** A running transaction, handed to repository methods that must take part in it. */
export type Tx = EntityManager;

/**
 * Lets a service run several repository calls atomically while the rules stay in the
 * service; events are published by the caller only once `run` has resolved (committed).
 */
@Injectable()
export class Transactions {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
