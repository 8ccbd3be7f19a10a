// Validates deploy/compose.yaml with docker-compose (offline: `config` resolves and checks the file, nothing runs)
// and prints the resolved file as JSON, every relative path made absolute, for the test to check what it refers to.
//   node deploy/check/compose.mjs            (from the repository root; docker-compose on PATH)
import { execFileSync } from "node:child_process";
import { parse } from "yaml";

let text;
try {
  text = execFileSync("docker-compose", ["-f", "deploy/compose.yaml", "config"], { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
} catch (e) {
  console.error(`docker-compose config failed: ${e.stderr || e.message}`);
  process.exit(1);
}
console.log(JSON.stringify(parse(text)));
