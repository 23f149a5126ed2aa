/**
 * Azure Functions app-setting references in binding options. A trigger option may name an app
 * setting wrapped in percent signs (`queueName: '%ORDERS_QUEUE%'`, `schedule: '%TimerSchedule%'`):
 * the host resolves it when it indexes the function (Azure docs "Azure Functions binding
 * expression patterns", app settings), but `context.options.trigger` gives the text as it was
 * registered. App settings are the process's environment variables; a hierarchical name's `:`
 * is `__` there (Azure docs "App settings reference for Azure Functions").
 */

/** One `%NAME%` reference: a name without `%` and without line breaks. */
const SETTING_REFERENCE = /%([^%\r\n]+)%/g;

function settingValue(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const direct = env[name];
  if (direct !== undefined) return direct;
  return name.includes(':') ? env[name.replaceAll(':', '__')] : undefined;
}

/**
 * The binding option with each `%NAME%` replaced by the app setting `NAME`
 * (`process.env.NAME`, or `NAME` with `:` written `__`). A reference to a setting that is not
 * set is kept as written (the host refuses to start such a function, so it is a hand-built
 * context, a test); text without references is returned as it is.
 *
 * @example resolveAppSettings('%ORDERS_QUEUE%', { ORDERS_QUEUE: 'orders-prod' }) // 'orders-prod'
 */
export function resolveAppSettings(value: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!value.includes('%')) return value;
  return value.replace(SETTING_REFERENCE, (whole, name: string) => settingValue(name, env) ?? whole);
}
