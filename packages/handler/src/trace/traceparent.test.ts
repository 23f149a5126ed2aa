/**
 * The W3C Trace Context grammars (https://www.w3.org/TR/trace-context/, §3.2 traceparent and
 * §3.3 tracestate) and the X-Ray header mapping, case by case; the spec's own examples included.
 */
import { describe, expect, it } from 'vitest';
import { newTraceparent, parseTraceparent, parseTracestate } from './traceparent.js';
import { xrayToTraceparent } from './xray.js';

const SPEC = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('parseTraceparent', () => {
  it("reads the spec's example into its fields", () => {
    expect(parseTraceparent(SPEC)).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', flags: 1, text: SPEC });
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')?.flags).toBe(0);
  });

  it('ignores spaces and tabs around the value (OWS)', () => {
    expect(parseTraceparent(` \t${SPEC} `)?.text).toBe(SPEC);
  });

  it.each([
    ['an all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['an all-zero parent id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['upper-case hex', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'],
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['a non-hex version', 'zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['version 00 with an extra field', `${SPEC}-what`],
    ['a short trace id', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
    ['a wrong separator', '00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['non-hex flags', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g'],
    ['an empty string', ''],
    ['a number', 42],
  ])('refuses %s', (_name, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('reads a later version by its first four fields, as version 00', () => {
    expect(parseTraceparent('cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future-field')?.text).toBe(SPEC);
    expect(parseTraceparent('cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x')).toBeUndefined();
  });
});

describe('newTraceparent', () => {
  it('makes a valid, sampled, different trace every time', () => {
    const a = parseTraceparent(newTraceparent());
    const b = parseTraceparent(newTraceparent());
    expect(a?.flags).toBe(1);
    expect(b).toBeDefined();
    expect(a!.traceId).not.toBe(b!.traceId);
  });
});

describe('parseTracestate', () => {
  it('keeps members in order without the spaces around them; empty members are dropped', () => {
    expect(parseTracestate('rojo=00f067aa0ba902b7 ,\tcongo=t61rcWkgMzE,, ')).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  });

  it('accepts multi-tenant keys and values with spaces inside', () => {
    expect(parseTracestate('fw529a3039@dt=a b,tenant1@vendor_x=1')).toBe('fw529a3039@dt=a b,tenant1@vendor_x=1');
  });

  it.each([
    ['a key given twice', 'a=1,a=2'],
    ['an upper-case key', 'Rojo=1'],
    ['a value with a comma-free "="', 'a=b=c'],
    ['a value ending in a space', 'a=1 x=2'],
    ['more than 32 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
    ['nothing but commas', ' , ,'],
  ])('drops %s', (_name, value) => {
    expect(parseTracestate(value)).toBeUndefined();
  });
});

describe('xrayToTraceparent', () => {
  it('maps Root and Parent to the W3C ids, Sampled=1 to flag 01', () => {
    expect(xrayToTraceparent('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1')).toBe(
      '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01',
    );
  });

  it('maps Sampled=0, a deferred decision (?) and none to flag 00, whatever the field order', () => {
    expect(xrayToTraceparent('Sampled=0;Parent=53995c3f42cd8ad8;Root=1-5759e988-bd862e3fe1be46a994272793')).toMatch(/-00$/);
    expect(xrayToTraceparent('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?')).toMatch(/-00$/);
    expect(xrayToTraceparent('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Lineage=a87bd80c:0')).toMatch(/-00$/);
  });

  it.each([
    ['no Parent (an ALB header)', 'Self=1-67891234-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678'],
    ['a Root of another version', 'Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8'],
    ['a short Parent', 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8a'],
    ['a Root given twice', 'Root=1-5759e988-bd862e3fe1be46a994272793;Root=1-5759e988-bd862e3fe1be46a994272794;Parent=53995c3f42cd8ad8'],
    ['all-zero ids', 'Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8'],
    ['not a string', undefined],
  ])('refuses %s', (_name, value) => {
    expect(xrayToTraceparent(value)).toBeUndefined();
  });
});
