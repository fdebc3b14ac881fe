import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);

/** One object of a rendered overlay. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Renders a kustomization with kubectl's built-in kustomize (the same engine `kubectl apply -k` uses). */
export async function renderKustomization(dir: string): Promise<{ yaml: string; objects: K8sObject[] }> {
  const { stdout } = await run('kubectl', ['kustomize', dir], { maxBuffer: 64 * 1024 * 1024 });
  return { yaml: stdout, objects: parseManifests(stdout) };
}

export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    objects.push(value as K8sObject);
  }
  return objects;
}

interface ModelModule {
  module: string;
  interfaceName: string;
}

/**
 * Where the schema-checked model of an apiVersion/kind lives: kubernetes-models for the built-in
 * API (generated from the Kubernetes OpenAPI spec), its prometheus-operator and KEDA packages for
 * the CRDs. Unknown kinds are an error, never skipped.
 */
export function modelModuleFor(apiVersion: string, kind: string): ModelModule | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const interfaceName = `I${kind}`;
  if (group === 'monitoring.coreos.com') return { module: `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`, interfaceName };
  if (group === 'keda.sh') return { module: `@kubernetes-models/keda/${apiVersion}/${kind}`, interfaceName };
  if (group === '') return { module: `kubernetes-models/${version}/${kind}`, interfaceName };
  if (group && /^[a-z0-9.]+$/.test(group) && (!group.includes('.') || group.endsWith('.k8s.io'))) {
    return { module: `kubernetes-models/${group}/${version}/${kind}`, interfaceName };
  }
  return undefined;
}

interface ValidatingModel {
  validate(): void;
}
type ModelClass = new (data: unknown) => ValidatingModel;

/**
 * Validates each object against the JSON schema of its kind (types, formats, required fields,
 * enums). Returns one line per problem, prefixed with `Kind/name`.
 */
export async function validateAgainstSchemas(objects: readonly K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const obj of objects) {
    const where = `${obj.kind}/${obj.metadata?.name ?? '?'}`;
    const model = modelModuleFor(obj.apiVersion, obj.kind);
    if (!model) {
      problems.push(`${where}: no schema known for ${obj.apiVersion} ${obj.kind}`);
      continue;
    }
    let Model: ModelClass | undefined;
    try {
      Model = ((await import(model.module)) as Record<string, ModelClass>)[obj.kind];
    } catch {
      Model = undefined;
    }
    if (!Model) {
      problems.push(`${where}: ${obj.apiVersion} ${obj.kind} is not a known API (no model ${model.module})`);
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message.split('\n').join('; ')}`);
    }
  }
  return problems;
}

/**
 * The strict half of the check (like kubeconform -strict): the JSON schemas accept unknown fields,
 * so a typo such as `readinessProbe.httpGett` would pass them. Every object is written out as a
 * typed TypeScript literal and compiled; excess-property checks reject any field the API lacks.
 */
export async function checkUnknownFields(objects: readonly K8sObject[], workDir: string, root: string): Promise<string[]> {
  await mkdir(workDir, { recursive: true });
  const imports: string[] = [];
  const decls: string[] = [];
  const names: string[] = [];
  objects.forEach((obj, i) => {
    const model = modelModuleFor(obj.apiVersion, obj.kind);
    if (!model) return;
    const alias = `T${i}`;
    imports.push(`import type { ${model.interfaceName} as ${alias} } from '${model.module}';`);
    decls.push(`export const o${i}: ${alias} = ${JSON.stringify(obj, null, 1)};`);
    names.push(`${obj.kind}/${obj.metadata?.name ?? '?'}`);
  });
  // Line (1-based) where each declaration starts, to name the object an error points into.
  const starts: number[] = [];
  let line = imports.length + 1;
  for (const decl of decls) {
    starts.push(line);
    line += decl.split('\n').length;
  }
  const file = join(workDir, 'manifests.check.ts');
  await writeFile(file, `${imports.join('\n')}\n${decls.join('\n')}\n`);
  await writeFile(
    join(workDir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'Bundler',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
        typeRoots: [join(root, 'node_modules', '@types')],
      },
      files: ['manifests.check.ts'],
    }),
  );
  try {
    await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(workDir, 'tsconfig.json')], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
    return [];
  } catch (err) {
    const out = String((err as { stdout?: string }).stdout ?? err);
    const errors = out.split('\n').filter((l) => l.includes('error TS'));
    if (errors.length === 0) return [`type check of the manifests failed: ${out.slice(0, 500)}`];
    return errors.map((l) => {
      const at = Number(/\((\d+),\d+\)/.exec(l)?.[1] ?? 0);
      let idx = -1;
      starts.forEach((s, i) => {
        if (s <= at) idx = i;
      });
      return `${names[idx] ?? 'manifest'} (line ${at - (starts[idx] ?? 0) + 1}): ${l.replace(/^.*error TS\d+: /, '')}`;
    });
  }
}
