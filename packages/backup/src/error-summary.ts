/**
 * The list of problems a `BackupError` appends to its message, and its inverse (to carry an
 * error's message into another error that lists the same problems). Internal: not exported
 * from the package root.
 */
import type { BackupProblem } from './errors.js';

/** `message`, then the first five problems (`key[ part n]: what`) and how many more. */
export function summary(message: string, problems: ReadonlyArray<BackupProblem>): string {
  if (problems.length === 0) return message;
  const listed = problems.slice(0, 5).map((p) => `${p.key}${p.part === undefined ? '' : ` part ${p.part}`}: ${p.message}`);
  const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
  return `${message}: ${listed.join('; ')}${more}`;
}

/** A backup error's message without the list of its problems that its constructor appended. */
export function messageWithoutProblems(error: { message: string; problems: ReadonlyArray<BackupProblem> }): string {
  const listed = summary('', error.problems);
  return listed !== '' && error.message.endsWith(listed) ? error.message.slice(0, -listed.length) : error.message;
}
