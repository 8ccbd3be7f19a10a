// The runner both smoke scripts share: each check is an async function that throws when the SDK saw something wrong.

export function expect(condition, what) {
  if (!condition) throw new Error(`expected ${what}`);
}

// Runs every check in order, prints one line each and the tally ("N passed, M failed", which the .NET test reads),
// and exits 1 if any failed.
export async function runChecks(checks, label = "") {
  let failed = 0;
  for (const [name, check] of Object.entries(checks)) {
    try {
      await check();
      console.log(`ok   ${name}`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}: ${e.message}`);
    }
  }
  console.log(`${Object.keys(checks).length - failed} passed, ${failed} failed${label ? ` (${label})` : ""}`);
  process.exit(failed ? 1 : 0);
}
