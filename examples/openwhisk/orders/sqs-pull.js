'use strict';
// The order-events consumer where SQS cannot trigger a function. The outbox relays to SQS (its
// only sender), so on this provider a scheduled function pulls the queue and hands each message
// to `orderEvents`, one after another, until the queue is empty or time runs short. A message
// is deleted only after it was handled; a failed one comes back after the visibility timeout
// (and reaches the queue's dead-letter queue after maxReceiveCount deliveries).
const { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } = require('@aws-sdk/client-sqs');
const { handler } = require('@steadyfn/handler');
const { config } = require('./app.js');
const { orderEvents } = require('./handlers.js');

const sqs = new SQSClient({});
const queueUrl = config.ORDER_EVENTS_QUEUE_URL;

const pullOrderEvents = handler({ name: 'pull-order-events' }, async (_input, ctx) => {
  let handled = 0;
  let failed = 0;
  // Stop taking messages while there is still time to handle a batch of them.
  while (ctx.remainingMs() > 20_000) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
      { abortSignal: ctx.signal },
    );
    if (Messages.length === 0) break;
    for (const [batchIndex, message] of Messages.entries()) {
      try {
        // One invocation of the consumer per message, as the SQS message it is (id, delivery
        // count): the inbox, the outbox and the workflow run exactly as on Lambda.
        const attempt = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
        const trigger = { kind: 'queue', source: 'sqs', queue: queueUrl.split('/').pop(), messageId: message.MessageId, attempt, attributes: {}, batchIndex, batchSize: Messages.length };
        await orderEvents.invoke(JSON.parse(message.Body ?? ''), { deliveryId: message.MessageId, deadline: ctx.deadline, trigger });
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }), { abortSignal: ctx.signal });
        handled++;
      } catch (error) {
        failed++;
        ctx.log.warn('order event not handled; SQS delivers it again', { messageId: message.MessageId, code: error?.code ?? 'INVALID_JSON' });
      }
    }
  }
  return { handled, failed };
});

module.exports = { pullOrderEvents };
