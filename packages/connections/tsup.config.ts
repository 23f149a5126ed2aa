import { defineConfig } from 'tsup';
import { library } from '../../tsup.base.js';

export default defineConfig({
  ...library,
  // The driver-free core, and one entry per driver: importing one loads only its driver.
  entry: ['src/index.ts', 'src/redis.ts', 'src/mongodb.ts', 'src/s3.ts', 'src/sqs.ts'],
});
