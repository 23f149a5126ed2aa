/**
 * fx2 D6: the next run's settle of marks kept through a store outage (relay/kept-marks.ts) logged
 * every item but the fenced ones as marked — a -2 answer (the store gave up on a document writers
 * kept moving: nothing marked, the events still pending, sent again) included. The info log now
 * counts marked, fenced and still-pending items apart. Pure logic: a fake store standing for the
 * `settle` answer only (the store adapters' -2 is proven against real servers elsewhere).
 */
import type { Logger } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { keepUnsettled, settleKept } from '../src/relay/kept-marks.js';
import type { RelayDeps, RelayRunOptions } from '../src/relay/run-options.js';
import type { RelayStore, SettleItem } from '../src/relay/types.js';

const item = (aggregate: string): SettleItem => ({ ref: { aggregate }, lease: { fence: 1 }, sent: [], refused: [] }) as unknown as SettleItem;

describe('settleKept log', () => {
  it('counts -2 (still pending) and -1 (fenced) apart from the marked items', async () => {
    const store = { kind: 'fake', settleReleasesLease: true, settle: async () => [2, -1, -2, 0, -2] } as unknown as RelayStore;
    const infos: Array<[string, Record<string, unknown> | undefined]> = [];
    const log = { info: (msg: string, fields?: Record<string, unknown>) => infos.push([msg, fields]), warn: () => undefined } as unknown as Logger;
    keepUnsettled(store, ['a', 'b', 'c', 'd', 'e'].map(item));
    await settleKept({ store, log } as unknown as RelayDeps, {} as RelayRunOptions);
    expect(infos).toHaveLength(1);
    expect(infos[0]![1]).toEqual({ store: 'fake', aggregates: 5, marked: 2, fenced: 1, stillPending: 2 });
  });
});
