/** The time source of rules that depend on "now"; tests replace it to mint at a fixed instant. */
export interface Clock {
  now(): number;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = { now: () => Date.now() };
