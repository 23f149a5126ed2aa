/**
 * `@steadyfn/connections/mongodb`: MongoDB clients. Importing this entry needs `mongodb`
 * installed; nothing else.
 *
 * @packageDocumentation
 */
export { mongo } from './clients/mongo.js';
export type { MongoClientHandleOptions, MongoConnection, MongoHandle } from './clients/mongo.js';
