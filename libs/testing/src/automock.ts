import { jest } from '@jest/globals';

/**
 * A typed automock of a class: every method of its prototype chain a `jest.fn()`, typed after
 * the real signature, so `mockResolvedValue` and `mockImplementation` are checked against it and
 * the object passes where the class is expected (a constructor's argument order included),
 * without an `as never` cast that would hide a mismatch.
 */
export function automock<T extends object>(type: abstract new (...args: never[]) => T): jest.Mocked<T> {
  const mock: Record<string, unknown> = {};
  for (let prototype = type.prototype; prototype && prototype !== Object.prototype; prototype = Object.getPrototypeOf(prototype)) {
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
      if (name !== 'constructor' && typeof descriptor?.value === 'function' && !(name in mock)) mock[name] = jest.fn();
    }
  }
  // The one cast: the object holds a mock for each method, which is what jest.Mocked<T> describes.
  return mock as jest.Mocked<T>;
}
