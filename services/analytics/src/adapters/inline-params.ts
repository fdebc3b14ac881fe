/**
 * Substitutes `{name:Type}` placeholders with typed literals (`CAST('…' AS Type)`), for the embedded
 * engine only. chdb-node runs every parameterized statement of the process through one FIFO chain
 * (its parameter binding is not isolated between concurrent queries), so one slow read there holds
 * up every later one, the roll-up refresher's included; statements without parameters run
 * concurrently. A server keeps getting real `query_params`.
 */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*):([^{}]+)\}/g;

/** A ClickHouse string literal: backslash and quote escaped, so the value can never end it. */
export function stringLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function literal(name: string, value: unknown): string {
  if (typeof value === 'string') return stringLiteral(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`query parameter ${name} is not a finite number`);
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (Array.isArray(value)) return `[${value.map((v, i) => literal(`${name}[${i}]`, v)).join(', ')}]`;
  throw new Error(`query parameter ${name} has an unsupported type (${value === null ? 'null' : typeof value})`);
}

export function inlineParams(sql: string, params: Record<string, unknown>): string {
  if (Object.keys(params).length === 0) return sql;
  return sql.replace(PLACEHOLDER, (_match, name: string, type: string) => {
    if (!Object.hasOwn(params, name)) throw new Error(`query parameter ${name} is missing`);
    // The type comes from our own SQL text, never from a caller's value.
    return `CAST(${literal(name, params[name])} AS ${type.trim()})`;
  });
}
