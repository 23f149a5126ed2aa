/**
 * How the inbox reads a message's event: its body (the validated input, a claim-checked body
 * fetched from S3 and verified, a base64-encoded one decoded, or the `read` option's), then
 * parsed as an outbox envelope. At most {@link CLAIM_CHECK_READS_IN_FLIGHT} claim-checked bodies
 * are read at once per inbox, across a batch and across batches a process runs at once.
 */
import pLimit from 'p-limit';
import type { Context } from '@steadyfn/handler';
import { parseEnvelope, type EventEnvelope } from './envelope.js';
import { MessageInvalidError } from './errors.js';
import { CLAIM_CHECK_READS_IN_FLIGHT } from './inbox-order.js';
import type { InboxOptions } from './inbox-options.js';
import { CLAIM_CHECK_ATTRIBUTE, CONTENT_ENCODING_ATTRIBUTE } from './sqs/claim-check.js';
import { attributesNotReceived, missingClaimCheck, pointerWithoutAttributes, readClaimChecked } from './sqs/claim-check-read.js';

/**
 * The event reader of one inbox (`owner` names it in a refusal).
 *
 * @returns a function reading the invocation's event; it throws `MessageInvalidError`
 *   (`INBOX_MESSAGE_INVALID`) for a body that is not an outbox event, and the claim check's
 *   refusals (a pointer received without its attributes, no `claimCheck` option, an object not
 *   the pointer's).
 */
export function eventReader(owner: string, options: Pick<InboxOptions, 'read' | 'claimCheck'>): (ctx: Context) => Promise<EventEnvelope> {
  const claimCheckReads = pLimit(CLAIM_CHECK_READS_IN_FLIGHT);
  const readBody = async (ctx: Context): Promise<unknown> => {
    if (options.read) return options.read(ctx);
    const attributes = ctx.trigger.kind === 'queue' ? ctx.trigger.attributes : {};
    if (attributes[CLAIM_CHECK_ATTRIBUTE] === undefined && attributes[CONTENT_ENCODING_ATTRIBUTE] === undefined) {
      // A pointer with no attributes at all: a receive that asked for none (not a Lambda event).
      if (pointerWithoutAttributes({ body: ctx.input, attributes })) throw attributesNotReceived();
      return ctx.input;
    }
    const read = () =>
      readClaimChecked({ body: ctx.input, attributes }, options.claimCheck, ctx.signal, () =>
        missingClaimCheck(owner, 'claimCheck', "s3ClaimCheck({ s3 }) from '@steadyfn/outbox/s3', with an S3Client that reads the producer's claim-check bucket"),
      );
    // Only a claim-checked body is an S3 GET: only those wait for a slot.
    return attributes[CLAIM_CHECK_ATTRIBUTE] === undefined ? read() : claimCheckReads(read);
  };
  return async (ctx) => {
    const parsed = parseEnvelope(await readBody(ctx));
    if (!parsed.ok) throw new MessageInvalidError(`inbox: the message is not an outbox event (${parsed.reason})`, { logFields: { reason: parsed.reason } });
    return parsed.event;
  };
}
