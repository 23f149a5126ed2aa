import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  it('writes one JSON line with base fields, masks secret-looking keys, filters by level', () => {
    const lines: string[] = [];
    const log = createLogger({ fn: 'orders' }, (l) => lines.push(l), 'info').child({ requestId: 'r1' });
    log.debug('hidden');
    log.info('charged', { amount: 3, authorization: 'Bearer x', apiKey: 'k' });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ level: 'info', msg: 'charged', fn: 'orders', requestId: 'r1', amount: 3, authorization: '[redacted]', apiKey: '[redacted]' });
  });
  it('survives values JSON cannot encode', () => {
    const lines: string[] = [];
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    createLogger({}, (l) => lines.push(l), 'debug').warn('odd', { big: 10n, circular });
    expect(JSON.parse(lines[0]!)).toMatchObject({ big: '10', circular: { self: '[circular]' } });
  });
});
