import type {
  V1Node,
  V1NodeSelector,
  V1NodeSelectorRequirement,
  V1NodeSelectorTerm,
} from '@kubernetes/client-node';

/**
 * Node selector matching, as the scheduler applies it to node affinity and to a
 * PersistentVolume's spec.nodeAffinity: the terms are ORed, the requirements of a
 * term are ANDed, and a term with no requirement matches no node.
 * See https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity
 * and https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/node-selector-requirement/
 *
 * A requirement that Kubernetes would reject (an unknown operator or field, Gt
 * with anything but one integer) matches nothing, so a malformed selector can
 * only refuse a node, never admit one.
 */
export function matchesNodeSelector(selector: V1NodeSelector, node: V1Node): boolean {
  return selector.nodeSelectorTerms.some((term) => matchesNodeSelectorTerm(term, node));
}

export function matchesNodeSelectorTerm(term: V1NodeSelectorTerm, node: V1Node): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;

  const labels = node.metadata?.labels ?? {};
  return (
    expressions.every((requirement) => matchesLabel(requirement, labels)) &&
    fields.every((requirement) => matchesField(requirement, node))
  );
}

function matchesLabel(
  requirement: V1NodeSelectorRequirement,
  labels: Record<string, string>,
): boolean {
  const value = labels[requirement.key];
  const values = requirement.values ?? [];

  switch (requirement.operator) {
    case 'Gt':
      return compareIntegers(value, values) === 1;
    case 'Lt':
      return compareIntegers(value, values) === -1;
    default:
      return meetsSetRequirement(requirement.operator, value, values);
  }
}

/**
 * The set-based operators that node selectors and label selectors share: In,
 * NotIn, Exists and DoesNotExist. An unknown operator matches nothing rather than
 * too much. https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/
 */
export function meetsSetRequirement(
  operator: string,
  value: string | undefined,
  values: string[],
): boolean {
  switch (operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    default:
      return false;
  }
}

/** Only metadata.name can be selected as a field, and only with In or NotIn. */
function matchesField(requirement: V1NodeSelectorRequirement, node: V1Node): boolean {
  if (requirement.key !== 'metadata.name') return false;

  const name = node.metadata?.name ?? '';
  const values = requirement.values ?? [];
  if (requirement.operator === 'In') return values.includes(name);
  if (requirement.operator === 'NotIn') return !values.includes(name);
  return false;
}

const INTEGER = /^[+-]?\d+$/;

/**
 * Compares a label value with the single value of a Gt or Lt requirement, both
 * read as integers: 1, 0 or -1, or null when either is missing or not an integer.
 */
function compareIntegers(label: string | undefined, values: string[]): number | null {
  const [bound, ...extra] = values;
  if (label === undefined || bound === undefined || extra.length > 0) return null;
  if (!INTEGER.test(label) || !INTEGER.test(bound)) return null;

  // BigInt, since the values are 64-bit and would lose digits as numbers.
  const difference = BigInt(label) - BigInt(bound);
  return difference === 0n ? 0 : difference > 0n ? 1 : -1;
}

/** The selector in one line for messages: "zone In [a, b] and disk Exists, or ...". */
export function describeNodeSelector(selector: V1NodeSelector): string {
  return selector.nodeSelectorTerms.map(describeTerm).join(', or ');
}

function describeTerm(term: V1NodeSelectorTerm): string {
  const requirements = [...(term.matchExpressions ?? []), ...(term.matchFields ?? [])];
  if (requirements.length === 0) return '(empty term)';
  return requirements.map(describeRequirement).join(' and ');
}

function describeRequirement(requirement: V1NodeSelectorRequirement): string {
  const values = requirement.values?.length ? ` [${requirement.values.join(', ')}]` : '';
  return `${requirement.key} ${requirement.operator}${values}`;
}
