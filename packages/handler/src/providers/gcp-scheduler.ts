/**
 * Cloud Scheduler HTTP targets calling an HTTP function (the Functions Framework's `http`
 * signature, Cloud Run), recognised only when the handler opts in (`gcpSchedulerHttp: true`).
 * Cloud Scheduler marks its calls with `X-CloudScheduler: true`, `X-CloudScheduler-JobName` and
 * `X-CloudScheduler-ScheduleTime` (https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#HttpTarget
 * — "the headers Cloud Scheduler sets").
 *
 * Why opt-in: those are plain request headers any caller of a public function can send.
 * Recognised, they name `ctx.deliveryId` (`<job>@<scheduleTime>`), which idempotency and the
 * inbox key on unscoped (a tick is nobody's): a forged call for tomorrow's tick, sent today,
 * makes the real tick a replay — answered, never run. Only the deployment knows that the
 * scheduler alone can invoke the function (authenticated invocation, the job's OIDC service
 * account the only invoker), so only it can say so.
 */
import type { HttpRequest } from '../types.js';
import { httpInput } from '../http.js';
import { adapterLogger, type Definition, type Frame, type HttpAnswer, type Invocation } from '../invoke.js';

/**
 * The `schedule` tick a Cloud Scheduler HTTP target's call is, when `def` opted in
 * (`gcpSchedulerHttp`) and the request carries `x-cloudscheduler: true`; undefined for anything
 * else (a plain request). Without the option such a request stays plain HTTP, and the first one
 * of each handler is named in a `warn` line saying how to opt in. `codingUndone`: the body's
 * `Content-Encoding` was already undone (see `httpInput`).
 */
export function schedulerHttpInvocation(def: Definition, frame: Frame, request: HttpRequest, requestId: string, http: HttpAnswer, codingUndone = false): Invocation | undefined {
  const h = request.headers;
  if (h['x-cloudscheduler'] !== 'true') return undefined;
  if (def.gcpSchedulerHttp !== true) {
    noteSchedulerIgnored(def, frame, requestId);
    return undefined;
  }
  const job = h['x-cloudscheduler-jobname'];
  const time = h['x-cloudscheduler-scheduletime'];
  return {
    trigger: { kind: 'schedule', source: 'cloud-scheduler', ...(time ? { scheduledTime: time } : {}), ...(job ? { schedule: job } : {}) },
    requestId,
    // The scheduled time names the tick: a retry of it (same job, same time) is the same delivery.
    deliveryId: time ? `${job ?? 'schedule'}@${time}` : undefined,
    payload: () => (request.rawBody === undefined ? {} : httpInput(request, def.body, false, codingUndone)),
    // Answered over HTTP like any request: its result is rendered.
    http,
  };
}

/** The warn line of a request that looked like a Cloud Scheduler call to a handler without `gcpSchedulerHttp`. */
export const SCHEDULER_IGNORED = 'request looks like a Cloud Scheduler call: ran it as plain HTTP (gcpSchedulerHttp is off)';

// The handlers whose first scheduler-like request has been noted (at most once each).
const schedulerIgnoredNoted = new WeakSet<Definition>();

function noteSchedulerIgnored(def: Definition, frame: Frame, requestId: string): void {
  if (schedulerIgnoredNoted.has(def)) return;
  schedulerIgnoredNoted.add(def);
  adapterLogger(def, frame, requestId).warn(SCHEDULER_IGNORED, {
    explicit: "when only the job's service account can invoke this function (authenticated invocation), set gcpSchedulerHttp: true so each tick is a schedule trigger keyed <job>@<scheduleTime>",
  });
}
