/** Labels and annotations the orchestrator puts on the objects it creates. */
/** Defined beside the pre-flight that refuses a pod of an unfinished migration. */
export { LABEL_MIGRATION_ID } from '@aso/shared';
export const LABEL_CHECKPOINT = 'aso.dev/checkpoint';
export const LABEL_WORKLOAD = 'aso.dev/workload';
export const ANNOTATION_MIGRATED_FROM = 'aso.dev/migrated-from';
export const ANNOTATION_SOURCE_NODE = 'aso.dev/source-node';
export const ANNOTATION_CREATED_BY_MIGRATION = 'aso.dev/created-by-migration';

/** On an original created again by a rollback: the migration that did it. */
export const ANNOTATION_RECREATED_BY_MIGRATION = 'aso.dev/recreated-by-migration';

/**
 * On a new pod waiting outside its ReplicaSet: the selector's labels it will get
 * back (a JSON object) once it is Ready.
 */
export const ANNOTATION_HANDOFF_LABELS = 'aso.dev/handoff-labels';

/**
 * Ranks a ReplicaSet's pods when it scales down: the lowest cost goes first.
 * https://kubernetes.io/docs/reference/labels-annotations-taints/#pod-deletion-cost
 */
export const ANNOTATION_POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

/** The volume name under which the checkpoint claim is mounted. */
export const CHECKPOINT_VOLUME = 'migration-checkpoint';

export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** The taint a cordon puts on a node. */
export const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable';
