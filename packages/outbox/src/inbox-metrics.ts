/** Duplicates the inbox caught per invocation, read into the outbox's metrics record. */
export const duplicates = new WeakMap<object, number>();
