// Helpers of the exa-js tests: the environment they are run with, and a
// check that fails with what was got.

export function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

export function check(cond: boolean, what: string, got?: unknown): asserts cond {
  if (!cond) throw new Error(`${what}; got ${JSON.stringify(got, null, 1)}`);
}
