/**
 * Up-front validation of handle options: a bad value fails when the handle is defined (at
 * cold start, in module scope) with a `ConfigurationError` naming the factory and the
 * option, instead of surfacing as a connection failure later.
 */
import { checkKnownKeys, invalidOption, keysOf, MAX_TIMER_MS, msOption, stringOption } from '@steadyfn/handler/internal';
import type { BudgetOptions, ClientSpec } from './spec.js';

/** Resolved handle settings (milliseconds). */
export interface HandleSettings {
  name: string;
  idleThresholdMs: number;
  pingTimeoutMs: number;
  connectTimeoutMs: number;
  closeTimeoutMs: number;
  budget: BudgetOptions | undefined;
}

/** The defaults every handle starts from (milliseconds), before the platform profile and the user's options. */
export const HANDLE_DEFAULTS = {
  idleThresholdMs: 10_000,
  pingTimeoutMs: 1_000,
  connectTimeoutMs: 10_000,
  closeTimeoutMs: 2_000,
} as const;

// Unknown keys are refused: a typo or a pre-`…Ms` name would leave the default in force.
const SPEC_KEYS = keysOf<ClientSpec<unknown>>({
  name: true,
  create: true,
  ping: true,
  isReady: true,
  close: true,
  isConnectionError: true,
  wasNotSent: true,
  idleThresholdMs: true,
  pingTimeoutMs: true,
  connectTimeoutMs: true,
  closeTimeoutMs: true,
  readBudget: true,
  budget: true,
  now: true,
  logger: true,
});
const BUDGET_KEYS = keysOf<BudgetOptions>({ warnRatio: true, shedRatio: true, backoffMs: true });

function functionOption(owner: string, field: string, value: unknown, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'function') invalidOption(owner, field, 'a function', value);
}

function ratioOption(owner: string, field: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) invalidOption(owner, field, 'a number from 0 to 1 (a share of the server limit)', value);
}

function budgetOption(owner: string, value: unknown): BudgetOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalidOption(owner, 'budget', 'true, false or { warnRatio?, shedRatio?, backoffMs? }', value);
  checkKnownKeys(owner, 'budget', value, BUDGET_KEYS);
  const budget = value as BudgetOptions;
  ratioOption(owner, 'budget.warnRatio', budget.warnRatio);
  ratioOption(owner, 'budget.shedRatio', budget.shedRatio);
  msOption(owner, 'budget.backoffMs', budget.backoffMs, 0, 0, MAX_TIMER_MS);
  return budget;
}

/**
 * Checks a client spec (or a factory's handle options merged into one) and resolves its defaults.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming `owner` and the option.
 */
export function validateSpec(owner: string, spec: ClientSpec<unknown>): HandleSettings {
  if (typeof spec !== 'object' || spec === null) invalidOption(owner, 'spec', 'an object', spec);
  checkKnownKeys(owner, '', spec, SPEC_KEYS);
  const name = stringOption(owner, 'name', spec.name);
  functionOption(owner, 'create', spec.create, true);
  for (const field of ['ping', 'isReady', 'close', 'isConnectionError', 'wasNotSent', 'readBudget', 'now'] as const) {
    functionOption(owner, field, spec[field], false);
  }
  const logger = spec.logger as unknown;
  if (logger !== undefined && (typeof logger !== 'object' || logger === null || typeof (logger as { warn?: unknown }).warn !== 'function')) {
    invalidOption(owner, 'logger', 'a Logger (createLogger() from @steadyfn/handler)', logger);
  }
  return {
    name,
    idleThresholdMs: msOption(owner, 'idleThresholdMs', spec.idleThresholdMs, HANDLE_DEFAULTS.idleThresholdMs, 0),
    pingTimeoutMs: msOption(owner, 'pingTimeoutMs', spec.pingTimeoutMs, HANDLE_DEFAULTS.pingTimeoutMs, 1, MAX_TIMER_MS),
    connectTimeoutMs: msOption(owner, 'connectTimeoutMs', spec.connectTimeoutMs, HANDLE_DEFAULTS.connectTimeoutMs, 1, MAX_TIMER_MS),
    closeTimeoutMs: msOption(owner, 'closeTimeoutMs', spec.closeTimeoutMs, HANDLE_DEFAULTS.closeTimeoutMs, 1, MAX_TIMER_MS),
    budget: budgetOption(owner, spec.budget),
  };
}
