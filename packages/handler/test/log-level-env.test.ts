/**
 * Review finding (rvu): a typo in `STEADYFN_LOG_LEVEL` (`bogus`, `warning`) silently gave `info`,
 * while the `logLevel` option is validated. Such a value still gives `info`, and is warned about
 * once per process (code `LOG_LEVEL_UNKNOWN`, naming the accepted values) on the handler's log.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, handler } from '../src/index.js';

type Line = Record<string, unknown>;
let saved: string | undefined;
beforeEach(() => {
  saved = process.env.STEADYFN_LOG_LEVEL;
});
afterEach(() => {
  if (saved === undefined) delete process.env.STEADYFN_LOG_LEVEL;
  else process.env.STEADYFN_LOG_LEVEL = saved;
});

function define(lines: Line[]) {
  return handler({ logSink: (line) => void lines.push(JSON.parse(line) as Line) }, (_input, ctx) => ctx.log.info('ran'));
}

describe('STEADYFN_LOG_LEVEL set to no level', () => {
  it.each(['bogus', 'warning', 'constructor'])('"%s": info applies, and the handler warns once naming the accepted values', async (value) => {
    process.env.STEADYFN_LOG_LEVEL = value;
    const lines: Line[] = [];
    const main = define(lines);
    await main.invoke({});
    const warnings = lines.filter((l) => l.code === 'LOG_LEVEL_UNKNOWN');
    expect(warnings).toEqual([expect.objectContaining({ level: 'warn', value, msg: expect.stringContaining('debug, info, warn, error') })]);
    // info applies: the function's info line is written.
    expect(lines.some((l) => l.msg === 'ran' && l.level === 'info')).toBe(true);
    // Once per process: a second handler (another module of the same process) does not warn again.
    const again: Line[] = [];
    await define(again).invoke({});
    expect(again.filter((l) => l.code === 'LOG_LEVEL_UNKNOWN')).toEqual([]);
  });

  it('a level in any case, unset or empty: no warning', () => {
    for (const value of ['WARN', 'debug', '', undefined]) {
      if (value === undefined) delete process.env.STEADYFN_LOG_LEVEL;
      else process.env.STEADYFN_LOG_LEVEL = value;
      const lines: string[] = [];
      const log = createLogger({}, (line) => void lines.push(line));
      log.error('probe');
      expect(lines.filter((l) => l.includes('LOG_LEVEL_UNKNOWN'))).toEqual([]);
      expect(lines).toHaveLength(1);
    }
  });

  it('a level given to createLogger is used as it is, whatever the variable says (no warning)', () => {
    process.env.STEADYFN_LOG_LEVEL = 'verbose';
    const lines: string[] = [];
    const log = createLogger({}, (line) => void lines.push(line), 'debug');
    log.debug('probe');
    expect(lines.map((l) => (JSON.parse(l) as Line).msg)).toEqual(['probe']);
  });
});
