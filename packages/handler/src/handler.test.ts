import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler } from './index.js';

describe('handler (direct)', () => {
  it('validates input and returns the result', async () => {
    const main = handler({ input: z.object({ n: z.number() }) }, async (input) => ({ doubled: input.n * 2 }));
    await expect(main.invoke({ n: 2 })).resolves.toEqual({ doubled: 4 });
    await expect(main.invoke({ n: 'x' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
