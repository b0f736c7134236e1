import type { V1LabelSelector, V1LabelSelectorRequirement } from '@kubernetes/client-node';

import { meetsSetRequirement } from '@aso/shared';

/**
 * Label selectors as the API server applies them to a controller's pods.
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
 */
export type Labels = Record<string, string>;

/** Every label key the selector looks at. */
export function selectorKeys(selector: V1LabelSelector): string[] {
  const keys = [
    ...Object.keys(selector.matchLabels ?? {}),
    ...(selector.matchExpressions ?? []).map((requirement) => requirement.key),
  ];
  return [...new Set(keys)];
}

/** Whether the labels satisfy every requirement; an empty selector matches everything. */
export function matchesSelector(selector: V1LabelSelector, labels: Labels): boolean {
  const exact = Object.entries(selector.matchLabels ?? {});
  if (!exact.every(([key, value]) => labels[key] === value)) return false;
  return (selector.matchExpressions ?? []).every((requirement) => meets(requirement, labels));
}

function meets(requirement: V1LabelSelectorRequirement, labels: Labels): boolean {
  return meetsSetRequirement(
    requirement.operator,
    labels[requirement.key],
    requirement.values ?? [],
  );
}

/** The selector in the string form of the labelSelector query parameter. */
export function selectorQuery(selector: V1LabelSelector): string {
  const exact = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  const expressions = (selector.matchExpressions ?? []).map(expressionQuery);
  return [...exact, ...expressions].join(',');
}

function expressionQuery(requirement: V1LabelSelectorRequirement): string {
  const values = (requirement.values ?? []).join(',');

  switch (requirement.operator) {
    case 'In':
      return `${requirement.key} in (${values})`;
    case 'NotIn':
      return `${requirement.key} notin (${values})`;
    case 'Exists':
      return requirement.key;
    case 'DoesNotExist':
      return `!${requirement.key}`;
    default:
      throw new Error(`unknown label selector operator ${requirement.operator}`);
  }
}
