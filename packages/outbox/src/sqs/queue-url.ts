/**
 * The `queueUrl` option of the sender and the watchdog: an `http(s)` URL Node can parse, and
 * whether it names a FIFO queue (SQS names every FIFO queue with the `.fifo` suffix).
 */
import { invalidOption, stringOption } from '@steadyfn/handler/internal';

const EXPECTED = 'a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)';

/**
 * Checks a queue URL option.
 *
 * @returns the URL as given and whether its path ends in `.fifo`.
 * @throws {ConfigurationError} `CONFIG_INVALID` naming `field` when `value` is not a string that
 * parses as an `http:` or `https:` URL.
 */
export function queueUrlOption(owner: string, field: string, value: unknown): { queueUrl: string; fifo: boolean } {
  const queueUrl = stringOption(owner, field, value);
  let url: URL | undefined;
  try {
    url = /^https?:\/\//.test(queueUrl) ? new URL(queueUrl) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined) invalidOption(owner, field, EXPECTED, queueUrl);
  return { queueUrl, fifo: /\.fifo$/.test(url.pathname) };
}
