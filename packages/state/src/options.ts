/**
 * Up-front checks of option values the shared helpers (`stringOption`, `intOption`,
 * `clientOption`) do not cover: a wrong value would otherwise be taken and fail at the first
 * load (a `TypeError`) or never (a filter left out reads whichever document comes first).
 */
import { clientOption, invalidOption, isRecord } from '@steadyfn/handler/internal';

/** A function, or nothing when `required` is false. */
export function functionOption(owner: string, field: string, value: unknown, expected: string, required = false): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'function') invalidOption(owner, field, expected, value);
}

/** `true`, `false`, or nothing. */
export function booleanOption(owner: string, field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') invalidOption(owner, field, 'true or false', value);
}

/** A plain object (a MongoDB filter, projection, sort…), or nothing when `required` is false. */
export function recordOption(owner: string, field: string, value: unknown, expected: string, required = false): void {
  if (value === undefined && !required) return;
  if (!isRecord(value) || Array.isArray(value)) invalidOption(owner, field, expected, value);
}

/** A non-empty string, or nothing. */
export function optionalString(owner: string, field: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) invalidOption(owner, field, 'a non-empty string', value);
}

/** A whole number of bytes ≥ 1, or nothing. */
export function bytesOption(owner: string, field: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)) invalidOption(owner, field, 'a whole number of bytes ≥ 1', value);
}

/** A `mongodb` `MongoClient`, or a function returning one. */
export function mongoClientOption(owner: string, value: unknown): void {
  clientOption(owner, 'client', value, ['db'], 'a MongoClient from mongodb');
}
