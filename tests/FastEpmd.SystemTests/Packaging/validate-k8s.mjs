// Checks Kubernetes manifests against the API's own types, with two validators from npm:
// kubernetes-models (JSON schemas generated from the Kubernetes OpenAPI: types, formats, required
// fields) and, because those schemas accept unknown fields, TypeScript's excess-property check
// against kubernetes-types (a misspelled field is an error). Prints the documents as JSON.
// usage: node validate-k8s.mjs NPM_DIR MANIFEST.yaml
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [npmDir, manifest] = process.argv.slice(2);
const load = (p) => import(pathToFileURL(join(npmDir, "node_modules", p)).href);
const YAML = await load("yaml/dist/index.js");
const models = { Pod: (await load("kubernetes-models/v1/Pod.js")).Pod };
const types = { Pod: "core/v1" };

const docs = YAML.parseAllDocuments(readFileSync(manifest, "utf8")).map((d) => {
    if (d.errors.length) throw new Error(`${manifest}: ${d.errors.join("; ")}`);
    return d.toJS();
});
let failed = 0;
const ts = [];
docs.forEach((doc, i) => {
    const Model = models[doc.kind];
    if (!Model) { console.error(`document ${i}: no validator for kind ${doc.kind}`); failed++; return; }
    try { new Model(doc).validate(); } catch (e) { console.error(`document ${i} (${doc.kind}): ${e.message}`); failed++; }
    ts.push(`import type { ${doc.kind} as T${i} } from "kubernetes-types/${types[doc.kind]}";`);
    ts.push(`export const doc${i}: T${i} = ${JSON.stringify(doc, null, 2)};`);
});
const dir = join(npmDir, `check-${process.pid}`);
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, "manifest.ts"), ts.join("\n") + "\n");
const tsc = spawnSync(process.execPath, [join(npmDir, "node_modules", "typescript", "bin", "tsc"),
    "--noEmit", "--strict", "--moduleResolution", "node", join(dir, "manifest.ts")], { encoding: "utf8" });
rmSync(dir, { recursive: true, force: true });
if (tsc.status !== 0) { console.error(tsc.stdout + tsc.stderr); failed++; }
if (failed) process.exit(1);
console.log(JSON.stringify(docs));
