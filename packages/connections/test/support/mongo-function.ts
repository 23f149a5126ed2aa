/** A MongoDB-only function (see function-child.ts): `{ ping: 1 }`. */
import { connections } from '../../src/index.js';
import { mongo } from '../../src/mongodb.js';
import { serve } from './function-child.js';

const lines: string[] = [];
void serve(connections({ mongo: mongo({ db: 'steadyfn_bundle' }) }, { closeOnSigterm: false }), async (ctx) => ctx.mongo.db.command({ ping: 1 }), lines);
