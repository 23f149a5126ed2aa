import { defineConfig } from 'tsup';
import { library } from '../../tsup.base.js';

export default defineConfig({
  ...library,
  entry: ['src/index.ts', 'src/aws.ts', 'src/gcp.ts', 'src/azure.ts', 'src/openwhisk.ts', 'src/internal.ts', 'src/schemas.ts', 'src/middy.ts', 'src/tracing.ts', 'src/logging.ts'],
});
