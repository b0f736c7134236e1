import type {
  HttpMethod,
  JsonSchema,
  MediaType,
  OpenApiDocument,
  Operation,
  Parameter,
} from './types.ts';

const METHODS: HttpMethod[] = ['get', 'post', 'put', 'patch', 'delete'];

/**
 * The OpenAPI description as one self-contained HTML page: no script, no font, no
 * stylesheet from elsewhere, so it reads the same on a cluster without internet.
 */
export function referencePage(document: OpenApiDocument): string {
  const { info, paths } = document;
  const { schemas } = document.components;

  const operations = Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) =>
      renderOperation(path, method, item[method] as Operation),
    ),
  );
  const components = Object.entries(schemas).map(([name, schema]) => renderComponent(name, schema));

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.title)} ${escapeHtml(info.version)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1>
<p>${inline(info.description)}</p>
<p>Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1).
Queue board: <a href="/admin">/admin</a>.</p>
<nav><h2>Routes</h2><ul>${Object.entries(paths)
    .flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map(
        (method) =>
          `<li><a href="#${anchor(method, path)}"><code>${method.toUpperCase()} ${escapeHtml(path)}</code></a> ${escapeHtml(item[method]?.summary ?? '')}</li>`,
      ),
    )
    .join('')}</ul></nav>
${operations.join('\n')}
<h2 id="schemas">Schemas</h2>
${components.join('\n')}
</body>
</html>
`;
}

function renderOperation(path: string, method: string, operation: Operation): string {
  const { security, responses } = operation;
  const auth =
    security.length === 0
      ? 'public'
      : security.map((scheme) => Object.keys(scheme).join(' + ')).join(' or ');
  const parameters = operation.parameters ?? [];
  const body = operation.requestBody;

  return `<section id="${anchor(method, path)}">
<h2><code>${method.toUpperCase()} ${escapeHtml(path)}</code></h2>
<p><strong>${escapeHtml(operation.summary)}</strong>. Authentication: ${escapeHtml(auth)}.</p>
${operation.description ? `<p>${inline(operation.description)}</p>` : ''}
${parameters.length > 0 ? renderParameters(parameters) : ''}
${body ? `<h3>Request body</h3>${renderContent(body.content)}` : ''}
<h3>Responses</h3>
<table><tr><th>status</th><th>meaning</th><th>body</th></tr>
${Object.entries(responses)
  .map(
    ([status, response]) =>
      `<tr><td>${escapeHtml(status)}</td><td>${inline(response.description)}</td>` +
      `<td>${renderContent(response.content)}</td></tr>`,
  )
  .join('\n')}
</table>
</section>`;
}

function renderParameters(parameters: Parameter[]): string {
  const rows = parameters.map(
    (parameter) =>
      `<tr><td><code>${escapeHtml(parameter.name)}</code></td><td>${escapeHtml(parameter.in)}</td>` +
      `<td>${parameter.required ? 'yes' : 'no'}</td><td>${typeOf(parameter.schema)}</td>` +
      `<td>${inline(parameter.description)}</td></tr>`,
  );
  return `<h3>Parameters</h3><table><tr><th>name</th><th>in</th><th>required</th><th>type</th><th>description</th></tr>${rows.join('')}</table>`;
}

function renderContent(content: Record<string, MediaType> | undefined): string {
  if (!content) return '';
  return Object.entries(content)
    .map(([type, media]) => `<code>${escapeHtml(type)}</code> ${typeOf(media.schema)}`)
    .join('<br>');
}

function renderComponent(name: string, schema: JsonSchema): string {
  return `<section id="schema-${escapeHtml(name)}">
<h3>${escapeHtml(name)}</h3>
${schema.description ? `<p>${inline(schema.description)}</p>` : ''}
${renderProperties(schema, '')}
</section>`;
}

/** A flat table of every field, nested objects under dotted names. */
function renderProperties(schema: JsonSchema, prefix: string): string {
  const rows = fieldRows(schema, prefix);
  if (rows.length === 0) return `<p>${typeOf(schema)}</p>`;
  return `<table><tr><th>field</th><th>type</th><th>required</th><th>description</th></tr>${rows.join('')}</table>`;
}

function fieldRows(schema: JsonSchema, prefix: string): string[] {
  const object = objectVariant(schema);
  if (!object) return [];

  const required = new Set(object.required ?? []);
  return Object.entries(object.properties ?? {}).flatMap(([name, property]) => {
    const path = `${prefix}${name}`;
    const row =
      `<tr><td><code>${escapeHtml(path)}</code></td><td>${typeOf(property)}</td>` +
      `<td>${required.has(name) ? 'yes' : 'no'}</td>` +
      `<td>${inline(property.description ?? '')}${defaultOf(property)}</td></tr>`;
    const item = property.type === 'array' ? (property.items ?? {}) : property;
    const suffix = property.type === 'array' ? '[].' : '.';
    return [row, ...fieldRows(item, `${path}${suffix}`)];
  });
}

/** The object schema inside a nullable or plain object, if any; unions of objects stay whole. */
function objectVariant(schema: JsonSchema): JsonSchema | undefined {
  if (schema.type === 'object' && schema.properties) return schema;
  if (!schema.anyOf) return undefined;
  const objects = schema.anyOf.filter((variant) => variant.type !== 'null');
  return objects.length === 1 && objects[0] ? objectVariant(objects[0]) : undefined;
}

function typeOf(schema: JsonSchema | undefined): string {
  if (!schema) return '';
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').pop() ?? '';
    return `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>`;
  }
  if (schema.const !== undefined) return `<code>${escapeHtml(JSON.stringify(schema.const))}</code>`;
  if (Array.isArray(schema.enum)) {
    return schema.enum.map((value) => `<code>${escapeHtml(String(value))}</code>`).join(' | ');
  }
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const variants = schema[key];
    if (variants) return variants.map(typeOf).join(key === 'allOf' ? ' & ' : ' | ');
  }
  if (schema.type === 'array') return `${typeOf(schema.items)}[]`;
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : (schema.type ?? 'any');
  return escapeHtml(type) + constraints(schema);
}

function constraints(schema: JsonSchema): string {
  const parts: string[] = [];
  if (typeof schema.minimum === 'number' && Number.isSafeInteger(schema.minimum)) {
    if (schema.minimum > Number.MIN_SAFE_INTEGER) parts.push(`≥ ${schema.minimum}`);
  }
  if (typeof schema.maximum === 'number' && schema.maximum < Number.MAX_SAFE_INTEGER) {
    parts.push(`≤ ${schema.maximum}`);
  }
  if (typeof schema.format === 'string') parts.push(schema.format);
  return parts.length > 0 ? ` (${escapeHtml(parts.join(', '))})` : '';
}

function defaultOf(schema: JsonSchema): string {
  if (schema.default === undefined) return '';
  return ` Default <code>${escapeHtml(JSON.stringify(schema.default))}</code>.`;
}

function anchor(method: string, path: string): string {
  return `${method}-${path.replace(/[^a-z0-9]+/gi, '-')}`;
}

/** Descriptions use `code` spans as Markdown does; everything else is text. */
function inline(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 small { color: #666; font-size: 60%; }
h2 { border-top: 1px solid #ddd; padding-top: 1rem; margin-top: 2rem; }
code { font-family: ui-monospace, monospace; background: #f4f4f4; padding: 0 .2rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f8f8f8; }
nav ul { columns: 2; }
`;
