/**
 * Reading a 1 MiB `application/x-www-form-urlencoded` body with `formFieldsIn`, against
 * URLSearchParams on the same text (which decodes UTF-8 only, with U+FFFD for invalid bytes):
 * a UTF-8 form (the `decodeURIComponent` fast path) and a Shift_JIS form (one strict decode per
 * name and value, one decoder per charset). Review F2: one decoder per escape run took 528 ms.
 * Prints the ratios and records them for `npm run bench`'s table; asserts no time.
 */
import { test } from 'vitest';
import { recordBench } from '../../../test/support/bench-results.js';
import { formFieldsIn } from '../src/http-body.js';

type Row = { latency: { p50?: number } };
const MiB = 1024 * 1024;
const formOf = (pair: string): string => Array.from({ length: Math.ceil(MiB / (pair.length + 1)) }, (_, i) => `${i}${pair}`).join('&');
const utf8Form = formOf('=caf%C3%A9+au+lait%F0%9F%98%80');
const sjisForm = formOf('=%83A%83C%83E+abc');

test('formFieldsIn on a 1 MiB form against URLSearchParams', async ({ bench }) => {
  const results = await bench.compare(
    bench('URLSearchParams, UTF-8 form', () => void [...new URLSearchParams(utf8Form)]),
    bench('formFieldsIn, UTF-8 form', () => void formFieldsIn(utf8Form)),
    bench('formFieldsIn, Shift_JIS form', () => void formFieldsIn(sjisForm, 'shift_jis')),
  );
  const p50 = (name: string) => (results.get(name as never) as unknown as Row).latency.p50 ?? Number.NaN;
  const base = 'URLSearchParams, UTF-8 form';
  const measures = [
    { key: 'handler.form-decode.utf8', name: 'formFieldsIn, UTF-8 form' },
    { key: 'handler.form-decode.shift_jis', name: 'formFieldsIn, Shift_JIS form' },
  ];
  for (const { name } of measures) {
    console.log(`[bench] ${name}: p50 ${p50(name).toFixed(1)} ms, ${(p50(name) / p50(base)).toFixed(2)}× ${base} (${p50(base).toFixed(1)} ms)`);
  }
  recordBench(
    ...measures.map(({ key, name }) => ({
      key,
      value: p50(name) / p50(base),
      unit: '×' as const,
      detail: `${name} / ${base}, 1 MiB form, p50 ${p50(name).toFixed(1)} ms vs ${p50(base).toFixed(1)} ms`,
    })),
  );
});
