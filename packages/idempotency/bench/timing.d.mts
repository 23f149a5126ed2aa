/** Types of timing.mjs (plain JS so that built-driver.mjs runs it in plain Node). */
/** What built-driver.mjs prints before its JSON result line. */
export declare const BUILT_MARKER: string;
export interface Stats {
  /** Median, µs. */
  p50: number;
  /** Mean, µs. */
  mean: number;
}
/** Per-call statistics of contender `a` (steadyfn) and `b` (the baseline). */
export interface Interleaved {
  a: Stats;
  b: Stats;
}
/** CPU µs per call (p50 of batches) of `a` and `b`. */
export interface CpuPair {
  a: number;
  b: number;
}
export type Call = () => Promise<unknown>;
export declare function stats(samples: number[]): Stats;
export declare function alternate(a: Call, b: Call, rounds: number, time: (fn: Call) => Promise<number>): Promise<{ as: number[]; bs: number[] }>;
export declare function warmUp(a: Call, b: Call, ms: number): Promise<void>;
export declare function interleaved(a: Call, b: Call, rounds: number): Promise<Interleaved>;
export declare function cpuInterleaved(a: Call, b: Call, rounds: number, batch?: number): Promise<CpuPair>;
export interface Versus {
  dup: Interleaved;
  firstCall: Interleaved;
  warm: Interleaved;
  dupCpu: CpuPair;
  firstCpu: CpuPair;
  /** The duplicate path with a one-command claim (a prototype), when `oneCommand` was given. */
  dupOneCommand?: Interleaved;
  dupOneCommandCpu?: CpuPair;
}
export declare function versusPowertools<E>(contenders: {
  steady: (event: E) => Promise<unknown>;
  steadyWarm: (event: E) => Promise<unknown>;
  powertools: (event: E) => Promise<unknown>;
  duplicateEvent: E;
  fresh: () => E;
  /** The duplicate path's one-command prototype (contenders.mjs `makeOneCommandSteady`). */
  oneCommand?: () => Promise<unknown>;
}): Promise<Versus>;
export interface Floors {
  bare: Interleaved;
  script: Interleaved;
  bareCpu: CpuPair;
  scriptCpu: CpuPair;
}
export declare function floorsVersus(floors: { oneCommand: Call; twoCommands: Call; scriptClaim: Call }): Promise<Floors>;
