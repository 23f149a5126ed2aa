// The Azure Functions (Node.js v4 programming model) registrations: each is one function of
// the app. Timer schedules are NCRONTAB (seconds first). `timeoutMs` in the handlers' options
// is not needed here: the default (5 minutes) is host.json's functionTimeout.
import azure from '@azure/functions';
import { backupOrders, createOrder, restoreDrill, sweepOutbox } from '../../orders/handlers.mjs';
import { pullOrderEvents } from '../../orders/sqs-pull.mjs';

// @azure/functions is CommonJS: its API is the default export when imported from ESM.
const { app } = azure;

app.http('createOrder', { route: 'orders', methods: ['POST'], authLevel: 'function', handler: createOrder });
app.timer('pullOrderEvents', { schedule: '0 * * * * *', handler: pullOrderEvents });
app.timer('sweepOutbox', { schedule: '30 * * * * *', handler: sweepOutbox });
app.timer('backupOrders', { schedule: '0 0 3 * * *', handler: backupOrders });
app.timer('restoreDrill', { schedule: '0 0 5 * * *', handler: restoreDrill });
