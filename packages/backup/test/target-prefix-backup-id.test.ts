/**
 * Review findings (minor): a storage prefix `' shop'`, `'a//b'` or `'a/../b'` was taken (a typo
 * writing beside `shop`, keys that tools and copies normalise to another folder), and a backup
 * id such as `'../x'` was not checked as an id before it was joined into a key. Both are refused
 * with `ConfigurationError` (`CONFIG_INVALID`) naming the field, before any request.
 */
import { describe, expect, it } from 'vitest';
import { applyRetention, mongoSource, mongoTarget, restore, snapshotBackup, streamBackup, verifyBackup } from '../src/index.js';
import { client, configError, db, storage } from './offline-options.js';

describe('storage prefix and backup id', () => {
  it.each([' shop', 'shop ', 'a//b', 'a/../b', '..', 'a/./b', 'a\nb'])('prefix %j is refused', async (prefix) => {
    const target = { client, bucket: 'backups', prefix };
    expect((await configError(() => snapshotBackup({ source: mongoSource({ db }), target }))).field).toBe('target.prefix');
    expect((await configError(() => streamBackup({ name: 's', target }))).field).toBe('target.prefix');
    expect((await configError(() => applyRetention({ storage: target, keepLast: 1 }))).field).toBe('storage.prefix');
    expect((await configError(() => restore({ backup: { storage: target, id: 'latest' }, target: mongoTarget({ db }) }))).field).toBe('backup.storage.prefix');
  });

  it('prefixes of ordinary segments are taken', () => {
    for (const prefix of ['', 'shop', 'a/b.c/d-e_f', 'shop 2/x', '.hidden/x']) expect(() => snapshotBackup({ source: mongoSource({ db }), target: { client, bucket: 'backups', prefix } })).not.toThrow();
  });

  it.each(['../x', 'a/b', '..', '.x', 'id with space', ''])('backup id %j is refused', async (id) => {
    expect((await configError(() => restore({ backup: { storage, id }, target: mongoTarget({ db }) }))).field).toBe('backup.id');
    expect((await configError(() => verifyBackup({ backup: { storage, id }, level: 'quick' }))).field).toBe('backup.id');
  });
});
