// The Cloud Functions entry: each registration is one function of the `gcloud functions deploy`
// commands in README.md (--entry-point=<name>). The scheduled ones are triggered by Pub/Sub
// topics that Cloud Scheduler publishes to.
import functions from '@google-cloud/functions-framework';
import { backupOrders, createOrder, restoreDrill, sweepOutbox } from './orders/handlers.mjs';
import { pullOrderEvents } from './orders/sqs-pull.mjs';

functions.http('createOrder', createOrder);
functions.cloudEvent('pullOrderEvents', pullOrderEvents);
functions.cloudEvent('sweepOutbox', sweepOutbox);
functions.cloudEvent('backupOrders', backupOrders);
functions.cloudEvent('restoreDrill', restoreDrill);
