// The Lambda entry: each export is one function of template.yaml (handler `index.<name>`).
export { createOrder, orderEvents, sweepOutbox, backupOrders, restoreDrill } from './orders/handlers.mjs';
