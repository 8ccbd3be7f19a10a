// Renders every Kustomize directory under deploy/k8s (the base and each overlay) with `kubectl kustomize`, validates
// every object against the Kubernetes schemas (kubernetes-models) and the Prometheus Operator's, and checks the
// PrometheusRule carries exactly the rules of deploy/prometheus/alerts.yml. Offline: no API server is needed.
// Prints {"<dir>": [objects…]} as JSON for the test to read; exits 1 naming every problem.
//   node deploy/check/validate.mjs            (from the repository root; kubectl on PATH)
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, parse } from "yaml";
import { Namespace, ServiceAccount, Service, ConfigMap } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { ServiceMonitor, PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const models = { Namespace, ServiceAccount, Service, ConfigMap, Deployment, PodDisruptionBudget, HorizontalPodAutoscaler, ServiceMonitor, PrometheusRule };
const root = "deploy/k8s";
const dirs = [join(root, "base"), ...readdirSync(join(root, "overlays")).map((o) => join(root, "overlays", o))]
  .filter((d) => existsSync(join(d, "kustomization.yaml")));
const alertGroups = parse(readFileSync("deploy/prometheus/alerts.yml", "utf8")).groups;
const problems = [];
// Kustomize writes keys in its own order: compare content, not layout.
const canonical = (v) => Array.isArray(v) ? v.map(canonical)
  : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])])) : v;
const same = (a, b) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
const rendered = {};

for (const dir of dirs) {
  let text;
  try {
    text = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    problems.push(`${dir}: kubectl kustomize failed: ${e.stderr || e.message}`);
    continue;
  }
  rendered[dir] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      problems.push(`${dir}: YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    const object = doc.toJS();
    if (object === null) continue;
    rendered[dir].push(object);
    const where = `${dir}: ${object.kind}/${object.metadata?.name}`;
    const Model = models[object.kind];
    if (!Model || new Model({}).apiVersion !== object.apiVersion) {
      problems.push(`${where}: no schema here for ${object.apiVersion} ${object.kind}`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (e) {
      problems.push(`${where}: ${e.message}`);
    }
    if (object.kind === "PrometheusRule" && !same(object.spec.groups, alertGroups)) {
      problems.push(`${where}: its groups differ from deploy/prometheus/alerts.yml (edit both)`);
    }
  }
}

if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(JSON.stringify(rendered));
