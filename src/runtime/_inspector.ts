/**
 * CPU profiling through `node:inspector`, which both Bun and Deno implement: the profile is
 * taken of this process while it keeps running, and comes out in DevTools' `.cpuprofile`
 * format.
 */

/** Samples this process's CPU for `seconds` and returns the `.cpuprofile` JSON. */
export async function inspectorCpuProfile(seconds: number): Promise<string> {
  // Loaded on first use: node:inspector costs start-up time and memory in every process.
  const { Session } = process.getBuiltinModule("node:inspector");
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<any>((resolve, reject) =>
      session.post(method, (err: Error | null, res?: unknown) => err ? reject(err) : resolve(res))
    );
  try {
    await post("Profiler.enable");
    await post("Profiler.start");
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const { profile } = await post("Profiler.stop");
    return JSON.stringify(profile);
  } finally {
    session.disconnect();
  }
}
